"""`POST /sandbox/bot/send`: play a WeChat user talking to the official account.

Builds the XML WeChat would push (a text, a menu click, a follow, a QR scan...), signs it with
the callback token — and, with `encrypt: true`, wraps it in safe mode (AES, msg_signature) —
posts it to the app's callback within WeChat's 5 seconds, and returns what the app answered,
decrypted and checked as WeChat would. Follows and unfollows update who follows, so template
messages to an unfollowed user fail as they would.
"""
import secrets
import time
from urllib.parse import urlencode

import requests
import xmltodict
from flask import Blueprint, jsonify, request
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import WeChatSigner

from .control import ControlError
from .oauth import NAME
from .runtime import current

bp = Blueprint("sandbox_bot", __name__, url_prefix="/sandbox")
EVENTS = ("subscribe", "unsubscribe", "SCAN", "CLICK", "VIEW", "scan_qr")
WECHAT_TIMEOUT_S = 5


@bp.errorhandler(ControlError)
def _control_error(exc):
    return jsonify({"error": {"code": exc.code, "message": exc.message}}), exc.status


@bp.post("/bot/send")
def send():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ControlError(400, "invalid_json", "request body must be a JSON object")
    settings, state = current().settings, current().oa
    openid = _openid(body, settings, state)
    fields = _message(body, openid, state)
    token, aes_key = body.get("token") or settings.oa_token, body.get("aes_key") or settings.oa_aes_key
    url = body.get("url") or settings.bot_callback_url
    timestamp = str(body.get("timestamp") or int(time.time()))
    nonce = secrets.token_hex(5)
    plain = xmltodict.unparse({"xml": fields}, full_document=False)
    query = {"signature": _sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
             "openid": openid}
    payload, crypto = plain, None
    if body.get("encrypt"):
        crypto = WeChatCrypto(token, aes_key, body.get("appid") or settings.oa_app_id)
        envelope = xmltodict.parse(crypto.encrypt_message(plain, nonce, timestamp))["xml"]
        payload = xmltodict.unparse({"xml": {"ToUserName": fields["ToUserName"], "Encrypt": envelope["Encrypt"]}},
                                    full_document=False)
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
    if isinstance(body.get("signature"), str):
        query["signature"] = body["signature"]  # a forger's guess
    _track_follow(fields, openid, state)
    try:
        answer = requests.post(f"{url}?{urlencode(query)}", data=payload.encode("utf-8"),
                               headers={"Content-Type": "text/xml"}, timeout=WECHAT_TIMEOUT_S)
    except requests.RequestException as exc:
        raise ControlError(502, "callback_unreachable", f"{type(exc).__name__}: {exc}")
    return jsonify({"status_code": answer.status_code, "body": answer.text, "openid": openid,
                    "sent": {"query": query, "xml": plain},
                    "reply": _reply(answer, crypto, token, settings) if answer.ok else None})


def _openid(body, settings, state):
    if isinstance(body.get("openid"), str) and body["openid"]:
        return body["openid"]
    name = body.get("user")
    if not isinstance(name, str) or not NAME.match(name):
        raise ControlError(400, "missing_field", "'user' (a test user name) or 'openid' is required")
    return state.user(settings.oa_app_id, name)[0]


def _message(body, openid, state):
    kind = body.get("type", "text")
    fields = {"ToUserName": "gh_sandbox_oa", "FromUserName": openid,
              "CreateTime": str(body.get("create_time") or int(time.time()))}
    if kind == "text":
        if not isinstance(body.get("content"), str):
            raise ControlError(400, "missing_field", "'content' is required for a text message")
        fields.update(MsgType="text", Content=body["content"],
                      MsgId=str(body.get("msg_id") or secrets.randbits(63)))
        return fields
    if kind != "event" or body.get("event") not in EVENTS:
        raise ControlError(400, "invalid_field", f"type is 'text' or 'event' with event one of {', '.join(EVENTS)}")
    event, key = body["event"], body.get("event_key") or body.get("scene") or ""
    ticket = body.get("ticket")
    if ticket:
        qr = state.qrcode(ticket)
        if qr is None:
            raise ControlError(404, "qrcode_not_found", "no QR code with that ticket")
        key = qr["scene"]
    if event == "scan_qr":  # the user scans a QR code: a follow, or a scan if they follow already
        event = "SCAN" if state.follows(openid) else "subscribe"
    if event == "subscribe" and key:
        key = "qrscene_" + key
    fields.update(MsgType="event", Event=event)
    if key or event in ("CLICK", "VIEW"):
        fields["EventKey"] = key
    if ticket:
        fields["Ticket"] = ticket
    return fields


def _track_follow(fields, openid, state):
    event = fields.get("Event")
    if event in ("subscribe", "unsubscribe"):
        following = event == "subscribe"
        state.set_following(openid, following)
        log = current().messages
        with log.lock:
            (log.unfollowed.discard if following else log.unfollowed.add)(openid)


def _reply(answer, crypto, token, settings):
    text = answer.text.strip()
    if not text or text == "success":
        return None
    try:
        doc = xmltodict.parse(text)["xml"]
        if crypto is not None:
            if "Encrypt" not in doc:
                return {"error": "plaintext reply to an encrypted message"}
            doc = xmltodict.parse(crypto.decrypt_message(text, doc.get("MsgSignature"), doc.get("TimeStamp"),
                                                          doc.get("Nonce")))["xml"]
    except (InvalidSignatureException, InvalidAppIdException) as exc:
        return {"error": f"reply failed WeChat's check: {type(exc).__name__}"}
    except Exception as exc:  # noqa: BLE001 — WeChat shows nothing for a reply it cannot read
        return {"error": f"unreadable reply: {type(exc).__name__}"}
    return dict(doc)


def _sign(token, timestamp, nonce):
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return signer.signature
