"""Users: find a person, and everything about them — groups, orders, refunds, messages, referrals."""
from flask import render_template, request

from groupbuy import records

from .session import console_blueprint, needs

bp = console_blueprint('console_users', __name__)


@bp.get('/users')
@needs('view')
def users():
    q = request.args.get('q', '')
    return render_template('console/users.html', users=records.find_users(q), q=q)


@bp.get('/users/<id:user_id>')
@needs('view')
def user(user_id: int):
    return render_template('console/user.html', r=records.user_record(user_id))
