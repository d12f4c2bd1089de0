"""A user's own orders and courses."""
from flask import Blueprint, g, jsonify

from groupbuy import orders, rewards
from groupbuy.clock import iso

from .auth import login_required
from .presenters import course_json, order_json
from .runtime import deps

bp = Blueprint('orders', __name__)


@bp.get('/api/orders/<id:order_id>')
@login_required
def show_order(order_id: int):
    return jsonify({'order': order_json(orders.get_own_order(g.user, order_id))})


@bp.get('/api/me/orders')
@login_required
def my_orders():
    return jsonify({'orders': [order_json(o) for o in orders.list_orders(g.user)]})


@bp.get('/api/me/courses')
@login_required
def my_courses():
    return jsonify({'courses': [dict(course_json(e.course), enrolled_at=iso(e.created_at))
                                for e in orders.list_enrollments(g.user)]})


@bp.get('/api/me/rewards')
@login_required
def my_rewards():
    """老带新: the user's points, coupons (and whom they were earned for) and the ledger of every move."""
    summary = rewards.summary_of(g.user.id, deps().now())
    return jsonify({
        'points': summary.points,
        'rewards': [{'id': c.id, 'kind': c.kind, 'amount_fen': c.amount_fen, 'min_spend_fen': c.min_spend_fen,
                     'points': c.points, 'status': c.shown_status, 'expires_at': iso(c.expires_at),
                     'earned_at': iso(c.created_at), 'campaign_id': c.campaign_id,
                     'earned_for': None if c.newcomer is None else {'nickname': c.newcomer.nickname,
                                                                    'avatar_url': c.newcomer.avatar_url}}
                    for c in summary.coupons],
        'ledger': [{'at': iso(e.at), 'action': e.action, 'reward_id': e.reward_id, 'order_id': e.order_id,
                    'points': e.points, 'note': e.note} for e in summary.entries]})
