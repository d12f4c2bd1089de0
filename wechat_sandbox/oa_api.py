"""Official-account server APIs the app calls: the JS-SDK ticket, parametric QR codes (create,
and the picture at `showqrcode`) and temporary media (a card's thumbnail)."""
import re
import secrets
import time

from flask import Blueprint, Response, jsonify, request

from . import gate, images
from .api_errors import wx_error
from .runtime import current

bp = Blueprint("wechat_oa_api", __name__)
gate.guard(bp)  # access_token checked there
SCENE_STR = re.compile(r"^.{1,64}$", re.S)
QR_ACTIONS = {"QR_SCENE": False, "QR_STR_SCENE": False, "QR_LIMIT_SCENE": True, "QR_LIMIT_STR_SCENE": True}


@bp.get("/cgi-bin/ticket/getticket")
def get_ticket():
    if request.args.get("type", "jsapi") not in ("jsapi", "wx_card"):
        return wx_error(40097, "invalid args")
    state = current().oa
    with state.lock:
        state.ticket_calls += 1
    return jsonify({"errcode": 0, "errmsg": "ok", "ticket": secrets.token_urlsafe(64), "expires_in": 7200})


@bp.post("/cgi-bin/qrcode/create")
def create_qrcode():
    body = request.get_json(force=True, silent=True) or {}
    action = body.get("action_name")
    scene = ((body.get("action_info") or {}).get("scene") or {})
    if action not in QR_ACTIONS:
        return wx_error(40097, "invalid action_name")
    if action.endswith("STR_SCENE"):
        value = scene.get("scene_str")
        if not isinstance(value, str) or not SCENE_STR.match(value):
            return wx_error(40097, "invalid scene_str")
    else:
        value = scene.get("scene_id")
        if not isinstance(value, int) or value < 1 or (QR_ACTIONS[action] and value > 100000):
            return wx_error(40097, "invalid scene_id")
    permanent = QR_ACTIONS[action]
    expire = body.get("expire_seconds", 60)
    if not permanent and (not isinstance(expire, int) or not 60 <= expire <= 2592000):
        return wx_error(40097, "invalid expire_seconds")
    ticket, qr = current().oa.add_qrcode(str(value), expire, permanent)
    answer = {"ticket": ticket, "url": qr["url"]}
    if not permanent:
        answer["expire_seconds"] = expire
    return jsonify(answer)


@bp.get("/cgi-bin/showqrcode")
def show_qrcode():
    """The QR picture of a ticket (WeChat serves it from mp.weixin.qq.com; no token needed)."""
    qr = current().oa.qrcode(request.args.get("ticket", ""))
    if qr is None:
        return Response(b"", status=404)
    return Response(images.qr_png(qr["url"]), mimetype="image/png")


@bp.post("/cgi-bin/media/upload")
def upload_media():
    kind, upload = request.args.get("type"), request.files.get("media")
    if kind not in ("image", "voice", "video", "thumb"):
        return wx_error(40004, "invalid media type")
    if upload is None:
        return wx_error(41005, "media data missing")
    data = upload.read()
    if not data:
        return wx_error(44001, "empty media data")
    media_id = secrets.token_urlsafe(48)
    state = current().oa
    with state.lock:
        state.media[media_id] = (data, upload.mimetype or "application/octet-stream")
    return jsonify({"type": kind, "media_id": media_id, "created_at": int(time.time())})


@bp.get("/sandbox/media/<media_id>")
def show_media(media_id):
    state = current().oa
    with state.lock:
        found = state.media.get(media_id)
    if found is None:
        return jsonify({"error": {"code": "not_found", "message": "no such media"}}), 404
    return Response(found[0], mimetype=found[1])
