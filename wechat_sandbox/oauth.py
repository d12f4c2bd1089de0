"""H5 web authorization (网页授权) of the official account, and its users' profiles.

`/connect/oauth2/authorize` is the page WeChat shows (or skips, for `snsapi_base`): here it asks
which test user is browsing, or takes `user=<name>` to go straight back as WeChat does for a
silent login. The same name is the same person everywhere in the sandbox: "alice" in the
mini-program (js_code "alice") and "alice" here share a unionid — when the official account is bound to
an open-platform account (the default; `POST /sandbox/open-platform` unbinds it): unbound, WeChat
gives no unionid anywhere here.
"""
import html
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, jsonify, redirect, request

from . import gate, images
from .api_errors import wx_error
from .login import NAME, _app_error, with_unionid
from .runtime import current

bp = Blueprint("wechat_oauth", __name__)
gate.guard(bp)
SCOPES = ("snsapi_base", "snsapi_userinfo")


def oa_state():
    return current().oa


def _oa_apps():
    s = current().settings
    return {s.oa_app_id: s.oa_app_secret}


def _page(title, body, status=200):
    doc = (f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'><meta name='viewport' "
           f"content='width=device-width'><title>{html.escape(title)}</title><body>{body}</body></html>")
    return Response(doc, status=status, mimetype="text/html")


@bp.get("/connect/oauth2/authorize")
def authorize():
    args = request.args
    redirect_uri, scope, state = args.get("redirect_uri", ""), args.get("scope", ""), args.get("state", "")
    if args.get("appid") != current().settings.oa_app_id:
        return _page("错误", "<p>appid 错误 (10003)</p>", 400)
    if urlsplit(redirect_uri).scheme not in ("http", "https") or args.get("response_type") != "code":
        return _page("错误", "<p>redirect_uri 参数错误 (10003)</p>", 400)
    if scope not in SCOPES:
        return _page("错误", "<p>scope 参数错误 (10005)</p>", 400)
    if len(state.encode("utf-8")) > 128:
        return _page("错误", "<p>state 参数过长，最多 128 字节</p>", 400)
    name = args.get("user", "")
    back = redirect_uri + ("&" if "?" in redirect_uri else "?")
    if NAME.match(name):
        if args.get("deny") == "1":
            return redirect(back + urlencode({"state": state}), 302)
        code = oa_state().issue_code(name, scope)
        return redirect(back + urlencode({"code": code, "state": state}), 302)
    keep = "".join(f"<input type='hidden' name='{k}' value='{html.escape(v, quote=True)}'>"
                   for k, v in args.items() if k not in ("user", "deny"))
    deny = "<button name='deny' value='1'>拒绝</button>" if scope == "snsapi_userinfo" else ""
    return _page("微信授权（沙箱）",
                 f"<form method='get'>{keep}<p>以哪位测试用户的身份打开？</p>"
                 f"<input name='user' pattern='[A-Za-z0-9_-]{{1,64}}' required placeholder='alice'>"
                 f"<button>允许</button>{deny}<p>scope: {html.escape(scope)}</p></form>")


@bp.get("/sns/oauth2/access_token")
def access_token():
    error = _app_error(request.args, "authorization_code", _oa_apps())
    if error:
        return error
    token, errcode = oa_state().redeem_code(request.args.get("code", ""))
    if errcode:
        return wx_error(errcode)
    grant = oa_state().token_grant(token)
    openid, unionid = oa_state().user(current().settings.oa_app_id, grant["name"])
    body = {"access_token": token, "expires_in": 7200, "refresh_token": "rt_" + token[:32],
            "openid": openid, "scope": grant["scope"]}
    if grant["scope"] == "snsapi_userinfo":  # as WeChat: a silent (base) login does not reveal the unionid
        body = with_unionid(body, current().settings.oa_app_id, unionid)
    return jsonify(body)


@bp.get("/sns/userinfo")
def userinfo():
    grant = oa_state().token_grant(request.args.get("access_token", ""))
    if grant is None:
        return wx_error(40001)
    if grant["scope"] != "snsapi_userinfo":
        return wx_error(48001)
    openid, unionid = oa_state().user(current().settings.oa_app_id, grant["name"])
    if request.args.get("openid") != openid:
        return wx_error(40003)
    return jsonify(with_unionid({"openid": openid, "nickname": grant["name"], "sex": 0, "province": "",
                                 "city": "", "country": "", "privilege": [],
                                 "headimgurl": f"{request.host_url}sandbox/avatars/{grant['name']}.png"},
                                current().settings.oa_app_id, unionid))


@bp.get("/cgi-bin/user/info")
def user_info():
    """A follower's profile (UnionID mechanism); unknown openids are not this account's users."""
    openid = request.args.get("openid", "")
    name = oa_state().name_of(openid)
    if name is None:
        return wx_error(40003)
    if not oa_state().follows(openid):
        return jsonify({"subscribe": 0, "openid": openid})
    _, unionid = oa_state().user(current().settings.oa_app_id, name)
    return jsonify(with_unionid({"subscribe": 1, "openid": openid, "nickname": name, "language": "zh_CN",
                                 "headimgurl": f"{request.host_url}sandbox/avatars/{name}.png",
                                 "subscribe_scene": "ADD_SCENE_QR_CODE"}, current().settings.oa_app_id, unionid))


@bp.get("/sandbox/avatars/<name>.png")
def avatar(name):
    if not NAME.match(name):
        return jsonify({"error": {"code": "invalid_field", "message": "unknown avatar"}}), 404
    return Response(images.avatar_png(name), mimetype="image/png")
