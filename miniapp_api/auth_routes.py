"""Login with a wx.login code, and the caller's own profile."""
from flask import Blueprint, g, jsonify

from config.wechat import LoginFailed, code_to_session
from groupbuy import accounts, errors

from . import schemas
from .auth import issue_token, login_required
from .errors import Unauthorized
from .presenters import user_json
from .runtime import runtime

bp = Blueprint('auth', __name__)


@bp.post('/api/auth/wxlogin')
def wxlogin():
    body = schemas.parse(schemas.WxLogin)
    try:
        session = code_to_session(runtime().wechat_client, body.code)
    except LoginFailed as exc:
        raise Unauthorized(f'WeChat rejected the login code (errcode {exc.errcode})')
    except OSError:
        raise errors.PaymentUnavailable('WeChat could not be reached; try again')
    user, created = accounts.login(session['openid'], session.get('unionid'))
    return jsonify({'token': issue_token(user.id), 'user': user_json(user), 'created': created})


@bp.get('/api/me')
@login_required
def me():
    return jsonify({'user': user_json(g.user)})


@bp.patch('/api/me')
@login_required
def update_me():
    body = schemas.parse(schemas.ProfileUpdate)
    user = accounts.update_profile(g.user, nickname=body.nickname, avatar_url=body.avatar_url)
    return jsonify({'user': user_json(user)})
