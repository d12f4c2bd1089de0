"""What is on sale now."""
from flask import Blueprint, jsonify

from groupbuy import catalog

from .presenters import campaign_json
from .runtime import deps

bp = Blueprint('campaigns', __name__)


@bp.get('/api/campaigns')
def list_campaigns():
    return jsonify({'campaigns': [campaign_json(c) for c in catalog.list_selling_campaigns(deps().now())]})


@bp.get('/api/campaigns/<int:campaign_id>')
def show_campaign(campaign_id: int):
    return jsonify({'campaign': campaign_json(catalog.get_campaign(campaign_id))})
