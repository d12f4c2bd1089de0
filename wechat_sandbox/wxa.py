"""Mini-program server APIs beyond login: the unlimited mini-program code (接口B) and the
code-based phone number. The "mini-program code" is a real QR code of its scene, so a poster's
code can be read back by any scanner in tests."""
import hashlib
import re
import time

from flask import Blueprint, Response, jsonify, request

from . import gate, images
from .api_errors import wx_error
from .runtime import current

bp = Blueprint("wechat_wxa", __name__)
gate.guard(bp)  # access_token checked there
# WeChat: at most 32 visible characters from digits, letters and !#$&'()*+,/:;=?@-._~
SCENE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$")
PAGE = re.compile(r"^[A-Za-z0-9_\-/]{1,128}$")


def _body():
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return None, wx_error(47001)
    return body, None


@bp.post("/wxa/getwxacodeunlimit")
def wxa_code_unlimited():
    body, error = _body()
    if error:
        return error
    scene, page = body.get("scene"), body.get("page")
    if not isinstance(scene, str) or not SCENE.match(scene):
        return wx_error(40169)
    if page is not None and (not isinstance(page, str) or page.startswith("/") or not PAGE.match(page)):
        return wx_error(41030)
    width = body.get("width", 430)
    width = min(max(width if isinstance(width, int) else 430, 280), 1280)
    return Response(images.qr_png(scene, width), mimetype="image/png")


@bp.post("/wxa/business/getuserphonenumber")
def phone_number():
    body, error = _body()
    if error:
        return error
    code = body.get("code")
    if not isinstance(code, str) or not code:
        return wx_error(47001, "data format error: code")
    if code.startswith("bad"):
        return wx_error(40029)
    digits = str(int(hashlib.sha256(code.encode("utf-8")).hexdigest(), 16))[-8:]
    pure = "138" + digits
    return jsonify({"errcode": 0, "errmsg": "ok", "phone_info": {
        "phoneNumber": pure, "purePhoneNumber": pure, "countryCode": "86",
        "watermark": {"timestamp": int(time.time()), "appid": current().settings.app_id}}})
