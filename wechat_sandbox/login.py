"""Mini-program login: access tokens and code2session, as JSON like api.weixin.qq.com.

wechatpy fetches /cgi-bin/token before any client call (code_to_session included, which
then sends access_token along; real WeChat ignores it and so do we). A js_code stands
for a user: the same code always maps to the same openid, so tests and the demo can
log in as a chosen person ("alice", "bob") without a phone.
"""
import base64
import hashlib
import secrets

from flask import Blueprint, jsonify, request

from .runtime import current

bp = Blueprint("wechat_login", __name__)

TOKEN_TTL_S = 7200


def derive_id(prefix, material):
    """prefix + urlsafe-base64(sha256(material)), 28 chars like a real openid."""
    digest = hashlib.sha256(material.encode("utf-8")).digest()
    return (prefix + base64.urlsafe_b64encode(digest).decode("ascii"))[:28]


def openid_for(appid, code):
    return derive_id("o", appid + code)


def unionid_for(code):
    # A unionid is per user across all of a company's apps, so appid is not in it.
    return derive_id("o", "unionid:" + code)


def session_key_for(appid, code):
    digest = hashlib.sha256(("session_key:" + appid + code).encode("utf-8")).digest()
    return base64.b64encode(digest[:16]).decode("ascii")  # AES-128 key, like WeChat's


def wx_error(errcode, errmsg):
    # WeChat answers errors with HTTP 200 and an errcode; wechatpy relies on that.
    return jsonify({"errcode": errcode, "errmsg": f"{errmsg} rid: {secrets.token_hex(6)}"})


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
        return wx_error(40013, "invalid appid")
    if args.get("secret") != apps[args.get("appid")]:
        return wx_error(40125, "invalid appsecret")
    return None


@bp.get("/cgi-bin/token")
def token():
    error = _app_error(request.args, "client_credential", known_apps())
    if error:
        return error
    return jsonify({"access_token": secrets.token_urlsafe(96), "expires_in": TOKEN_TTL_S})


@bp.get("/sns/jscode2session")
def jscode2session():
    error = _app_error(request.args, "authorization_code")
    if error:
        return error
    code = request.args.get("js_code", "")
    if not code:
        return wx_error(41008, "missing code")
    if code.startswith("bad"):
        return wx_error(40029, "invalid code")
    appid = current().settings.app_id
    return jsonify({"openid": openid_for(appid, code), "session_key": session_key_for(appid, code),
                    "unionid": unionid_for(code)})
