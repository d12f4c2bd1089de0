"""Mini-program login: access tokens and code2session, as JSON like api.weixin.qq.com.

A login code names the person: `alice` or `alice.<anything>` is test user "alice" (the text before the
last dot), so tests and the demo log in as a chosen person without a phone, and the same person always
gets the same openid. As at WeChat a code works once (40163 after) and for 5 minutes (40029 after);
`POST /sandbox/login/code {"user": "alice"}` mints a fresh one as wx.login does, and any caller can make
its own (`alice.<random>`). A code starting with `bad` is refused as a forged one (40029).

unionid comes only for an app bound to an open-platform account (api_state.OpenPlatform).
"""
import base64
import hashlib
import re

from flask import Blueprint, jsonify, request

from . import gate
from .api_errors import wx_error
from .api_state import TOKEN_TTL_S
from .control import error_response
from .runtime import current, now_s

bp = Blueprint("wechat_login", __name__)
gate.guard(bp)

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # a test user's name


def derive_id(prefix, material):
    """prefix + urlsafe-base64(sha256(material)), 28 chars like a real openid."""
    digest = hashlib.sha256(material.encode("utf-8")).digest()
    return (prefix + base64.urlsafe_b64encode(digest).decode("ascii"))[:28]


def openid_for(appid, name):
    return derive_id("o", appid + name)


def unionid_for(name):
    # A unionid is per user across all of a company's apps, so appid is not in it.
    return derive_id("o", "unionid:" + name)


def with_unionid(answer, appid, unionid):
    """The answer, plus `unionid` if app `appid` is bound to an open platform (as WeChat)."""
    if current().open_platform.bound(appid):
        answer["unionid"] = unionid
    return answer


def session_key_for(appid, name):
    digest = hashlib.sha256(("session_key:" + appid + name).encode("utf-8")).digest()
    return base64.b64encode(digest[:16]).decode("ascii")  # AES-128 key, like WeChat's


def person_of(code):
    """The test user a login code stands for: the text before its last dot (or all of it)."""
    return code.rpartition(".")[0] or code


def known_apps():
    """appid -> secret of every app the sandbox plays: the mini-program and the official account."""
    settings = current().settings
    return {settings.app_id: settings.app_secret, settings.oa_app_id: settings.oa_app_secret}


def _app_error(args, expected_grant, apps=None):
    settings = current().settings
    apps = apps or {settings.app_id: settings.app_secret}
    if args.get("grant_type") != expected_grant:
        return wx_error(40002, "invalid grant_type")
    if args.get("appid") not in apps:
        return wx_error(40013)
    if args.get("secret") != apps[args.get("appid")]:
        return wx_error(40125)
    return None


@bp.get("/cgi-bin/token")
def token():
    """A new token each call; the app's previous one keeps working 5 more minutes (api_state)."""
    error = _app_error(request.args, "client_credential", known_apps())
    if error:
        return error
    sandbox = current()
    return jsonify({"access_token": sandbox.tokens.issue(request.args["appid"], now_s()),
                    "expires_in": TOKEN_TTL_S})


@bp.get("/sns/jscode2session")
def jscode2session():
    error = _app_error(request.args, "authorization_code")
    if error:
        return error
    code = request.args.get("js_code", "")
    if not code:
        return wx_error(41008, "missing code")
    if code.startswith("bad"):
        return wx_error(40029)
    sandbox = current()
    errcode = sandbox.login_codes.redeem(code, now_s())
    if errcode:
        return wx_error(errcode)
    appid, person = sandbox.settings.app_id, person_of(code)
    answer = {"openid": openid_for(appid, person), "session_key": session_key_for(appid, person)}
    return jsonify(with_unionid(answer, appid, unionid_for(person)))


def _control_body():
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


@bp.post("/sandbox/login/code")
def mint_code():
    """What wx.login gives test user `user` in the mini-program: a fresh code (once, 5 minutes)."""
    body = _control_body()
    name = (body or {}).get("user")
    if not isinstance(name, str) or not NAME.match(name):
        return error_response(400, "invalid_field", "'user' must be a test user name (letters, digits, _ -)")
    return jsonify({"code": current().login_codes.mint(name, now_s()), "user": name})


@bp.route("/sandbox/open-platform", methods=["GET", "POST"])
def open_platform():
    """Whether an app is bound to an open-platform account: only then does WeChat give unionids.
    POST {"appid", "bound": bool}; GET lists both apps."""
    sandbox = current()
    if request.method == "POST":
        body = _control_body()
        if body is None or body.get("appid") not in known_apps() or not isinstance(body.get("bound"), bool):
            return error_response(400, "invalid_field", "'appid' (one of the sandbox's apps) and 'bound' "
                                  "(true/false) are required")
        sandbox.open_platform.set_bound(body["appid"], body["bound"])
    return jsonify({"apps": {appid: sandbox.open_platform.bound(appid) for appid in known_apps()}})
