"""Who is calling: user tokens and the operator's admin token.

A user token is signed and names the user's id *and* their current `token_key`, a random value
kept on the user row: a token can never pass to another person (ids are never reused, and a new
row has a new key), and changing the key (`accounts.revoke_tokens`) revokes every token at once.
A merged-away account's row is gone, so its tokens get 401. Responses that carry a token are
never cached (`Cache-Control: no-store`).
"""
import functools
import hmac

from flask import Blueprint, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from groupbuy import accounts, errors

from .errors import Unauthorized

TOKEN_MAX_AGE_S = 30 * 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return _serializer_for(current_app.config['SECRET_KEY'])


@functools.lru_cache(maxsize=8)  # one per secret key (one per app): every signed-in request reads a token
def _serializer_for(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt='pinke-user-token')


def issue_token(user) -> str:
    """A token for `user` (its id and current `token_key`). The response that carries it is marked no-store."""
    g.pinke_token_issued = True
    return _serializer().dumps({'u': user.id, 'k': user.token_key})


def no_store_when_token_issued(response):
    """after_request: a page or answer that carries a token must not sit in any cache."""
    if g.get('pinke_token_issued'):
        response.headers['Cache-Control'] = 'no-store'
        response.headers['Pragma'] = 'no-cache'
    return response


def _bearer() -> str | None:
    header = request.headers.get('Authorization', '')
    scheme, _, token = header.partition(' ')
    return token.strip() if scheme.lower() == 'bearer' and token.strip() else None


def optional_user():
    """The signed-in user, or None (public pages that show more to members)."""
    token = _bearer()
    return user_for_token(token) if token else None


def user_for_token(token: str):
    """The user a token names, or None: bad signature, expired, revoked, or its user merged away."""
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE_S)
        user = accounts.get_user(int(data['u']))
    except (BadSignature, KeyError, TypeError, ValueError, OverflowError, errors.NotFound):
        return None
    key = data.get('k')
    if not isinstance(key, str) or not hmac.compare_digest(key.encode(), user.token_key.encode()):
        return None  # revoked, or made for an earlier holder of this id
    return user


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
        if not hmac.compare_digest(token.encode(), current_app.config['ADMIN_TOKEN'].encode()):
            raise errors.Forbidden('that is not the admin token')
        return view(*args, **kwargs)
    return wrapper


def admin_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /admin/api whose every route needs the admin token."""
    bp = Blueprint(name, import_name, url_prefix='/admin/api')
    bp.before_request(admin_required(lambda: None))
    return bp
