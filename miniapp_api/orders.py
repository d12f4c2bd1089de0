"""A user's own orders and courses."""
from flask import Blueprint, g, jsonify

from groupbuy import orders
from groupbuy.clock import iso

from .auth import login_required
from .presenters import course_json, order_json

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
