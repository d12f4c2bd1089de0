"""Login with a wx.login code (one person across the mini-program and the official account, see
groupbuy.identity), the phone number WeChat vouches for, and the caller's own profile."""
from flask import Blueprint, g, jsonify

from gateways.wechat import LoginFailed, code_to_session
from gateways.wechat_wxa import phone_number
from groupbuy import accounts, errors, identity, referrals

from . import schemas, share_schemas
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
        raise _login_error(exc) from exc
    rt = runtime()
    referrer = referrals.existing_referrer(rt.settings.secret_key, body.ref)
    signed = identity.sign_in_miniapp(rt.deps, session['openid'], session.get('unionid'), referrer, body.share_code)
    return jsonify({'token': issue_token(signed.user), 'user': user_json(signed.user),
                    'created': signed.created})


def _login_error(exc: LoginFailed) -> errors.DomainError:
    """What the client should do: a spent or expired code is theirs to replace (401, call wx.login and
    sign in again); a user WeChat blocks stays out (403); WeChat busy or unreachable is worth a retry (502)."""
    details = {'wechat_errcode': exc.errcode}
    if exc.reason == 'code':
        return Unauthorized(f'{exc}: call wx.login for a new code and sign in again', retry='wx.login', **details)
    if exc.reason == 'blocked':
        return errors.Forbidden(f'{exc} (errcode {exc.errcode})', **details)
    return errors.WeChatUnavailable(f'{exc}; try again in a moment', retry='later', **details)


@bp.post('/api/auth/phone')
@login_required
def bind_phone():
    body = schemas.parse(share_schemas.PhoneCode)
    rt = runtime()
    phone = phone_number(rt.wechat_client, rt.settings.wechat_app_id, body.code)
    accounts.save_phone(g.user, phone['pure_phone'], phone['country_code'])
    return jsonify({'user': user_json(g.user), 'phone': {'number': phone['pure_phone'],
                                                         'country_code': phone['country_code']}})


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
