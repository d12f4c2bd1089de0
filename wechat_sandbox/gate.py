"""Every call to a WeChat JSON API passes here first, as at api.weixin.qq.com:

1. a switch set by `POST /sandbox/api/fail-next {api, count, errcode}` answers the call with a forced
   errcode (the same store switches as `/sandbox/pay/fail-next`: one mechanism);
2. the access_token is checked — 41001 missing, 40001 unknown or replaced more than 5 minutes ago,
   42001 past its 2 hours (api_state.AccessTokens) — except where WeChat takes none.

API blueprints call `guard(bp)`; their /sandbox/* control routes pass untouched.
"""
from flask import Blueprint, jsonify, request

from .api_errors import ERRMSG, FORCIBLE, wx_error
from .control import ControlError, _count, _json_body
from .runtime import current, now_s

bp = Blueprint("wechat_api_gate", __name__, url_prefix="/sandbox/api")

NOT_APIS = ("/sandbox/", "/connect/")  # control routes; the authorize page is a web page, not an API
NO_TOKEN = ("/cgi-bin/token", "/cgi-bin/showqrcode", "/sns/")  # sns/* take an app secret or an OAuth token


def guard(blueprint):
    blueprint.before_request(_before_call)


def _before_call():
    path = request.path
    if path.startswith(NOT_APIS):
        return None
    forced = current().store.take_next("fail:" + path.lstrip("/"))
    if forced is not None:
        return wx_error(forced)
    if path.startswith(NO_TOKEN):
        return None
    token = request.args.get("access_token")
    if not token:
        return wx_error(41001)
    errcode = current().tokens.check(token, now_s())
    return wx_error(errcode) if errcode else None


@bp.post("/fail-next")
def fail_next():
    """The next `count` calls of `api` (a path such as "sns/jscode2session") answer `errcode`;
    count 0 clears it. Only codes WeChat documents for that API (api_errors.FORCIBLE)."""
    body = _json_body()
    api, errcode = body.get("api"), body.get("errcode")
    if api not in FORCIBLE:
        raise ControlError(400, "invalid_field", "'api' must be one of " + ", ".join(FORCIBLE))
    count = _count(body)
    if isinstance(errcode, bool) or not isinstance(errcode, int) or errcode not in FORCIBLE[api]:
        raise ControlError(400, "invalid_field", f"WeChat documents these errcode for {api}: "
                           + ", ".join(map(str, FORCIBLE[api])))
    current().store.set_next("fail:" + api, count, errcode)
    return jsonify({"api": api, "count": count, "errcode": errcode, "errmsg": ERRMSG[errcode]})
