"""Who is calling: user tokens (signed, stateless) and the operator's admin token."""
import functools
import hmac

from flask import Blueprint, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from groupbuy import accounts, errors

from .errors import Unauthorized

TOKEN_MAX_AGE_S = 30 * 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config['SECRET_KEY'], salt='pinke-user-token')


def issue_token(user_id: int) -> str:
    return _serializer().dumps({'u': user_id})


def _bearer() -> str | None:
    header = request.headers.get('Authorization', '')
    scheme, _, token = header.partition(' ')
    return token.strip() if scheme.lower() == 'bearer' and token.strip() else None


def optional_user():
    """The signed-in user, or None (public pages that show more to members)."""
    token = _bearer()
    if not token:
        return None
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE_S)
        return accounts.get_user(int(data['u']))
    except (BadSignature, KeyError, TypeError, ValueError, errors.NotFound):
        return None


def login_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        user = optional_user()
        if user is None:
            raise Unauthorized()
        g.user = user
        return view(*args, **kwargs)
    return wrapper


def admin_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = _bearer()
        if not token:
            raise Unauthorized('operator endpoints need `Authorization: Bearer <ADMIN_TOKEN>`')
        if not hmac.compare_digest(token, current_app.config['ADMIN_TOKEN']):
            raise errors.Forbidden('that is not the admin token')
        return view(*args, **kwargs)
    return wrapper


def admin_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /admin/api whose every route needs the admin token."""
    bp = Blueprint(name, import_name, url_prefix='/admin/api')
    bp.before_request(admin_required(lambda: None))
    return bp
