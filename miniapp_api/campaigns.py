"""What is on sale now."""
from flask import Blueprint, jsonify

from groupbuy import catalog
from groupbuy.clock import iso
from groupbuy.open_groups import open_groups

from .presenters import campaign_json
from .runtime import deps

bp = Blueprint('campaigns', __name__)


@bp.get('/api/campaigns')
def list_campaigns():
    return jsonify({'campaigns': [campaign_json(c) for c in catalog.list_selling_campaigns(deps().now())]})


@bp.get('/api/campaigns/<id:campaign_id>')
def show_campaign(campaign_id: int):
    return jsonify({'campaign': campaign_json(catalog.get_campaign(campaign_id))})


@bp.get('/api/campaigns/<id:campaign_id>/open-groups')
def campaign_open_groups(campaign_id: int):
    """凑团: groups still short, closest to filling first, so a newcomer can join one."""
    d = deps()
    now = d.now()
    return jsonify({'groups': [dict(g, deadline_at=iso(g['deadline_at'])) for g in open_groups(campaign_id, now)],
                    'server_time': iso(now)})
