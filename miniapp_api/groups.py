"""Open a group, join one, look at one."""
from flask import Blueprint, g, jsonify

from groupbuy import groups

from . import client, schemas
from .auth import login_required, optional_user
from .presenters import checkout_json, group_json
from .runtime import deps

bp = Blueprint('groups', __name__)


@bp.post('/api/groups')
@login_required
def open_group():
    body = schemas.parse(schemas.OpenGroup)
    d = deps()
    checkout = groups.open_group(d, g.user, body.campaign_id, client.signals(), course_id=body.course_id,
                                 coupon_id=body.coupon_id)
    return jsonify(checkout_json(checkout, d.now(), g.user)), 201


@bp.post('/api/groups/<share_code>/join')
@login_required
def join_group(share_code: str):
    body = schemas.parse(schemas.JoinGroup, optional=True)
    d = deps()
    checkout = groups.join_group(d, g.user, share_code[:32], client.signals(), course_id=body.course_id,
                                 coupon_id=body.coupon_id, door=body.pay_via)
    return jsonify(checkout_json(checkout, d.now(), g.user)), 201


@bp.get('/api/groups/<share_code>')
def show_group(share_code: str):
    d = deps()
    return jsonify(group_json(groups.find_group(share_code[:32]), d.now(), optional_user()))
