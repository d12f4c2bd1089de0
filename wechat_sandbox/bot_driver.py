"""`POST /sandbox/bot/send`: play a WeChat user talking to the official account.

Builds the XML WeChat would push (a text, a menu click, a follow, a QR scan...), signs it with
the callback token — and when the sandbox has an EncodingAESKey (safe mode, the default) wraps it
as WeChat does (AES, msg_signature) — with a fresh nonce, posts it to the app's callback within
WeChat's 5 seconds, and returns what the app answered, decrypted and checked as WeChat would.
Only followers can talk to an account, so whoever pushes (but for an unfollow) follows from then
on; follows and unfollows update who follows, so template messages to an unfollowed user fail as
they would.

`resend` posts an earlier request again byte for byte: WeChat's retry of a push it got no answer
to is exactly that (same signature, timestamp, nonce and body), and so is an attacker's replay.
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
from .messages import REPLY_WINDOW_EVENTS
from .oauth import NAME
from .runtime import current, now_s

bp = Blueprint("sandbox_bot", __name__, url_prefix="/sandbox")
EVENTS = ("subscribe", "unsubscribe", "SCAN", "CLICK", "VIEW", "scan_qr")
WECHAT_TIMEOUT_S = 5


@bp.post("/bot/send")
def send():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ControlError(400, "invalid_json", "request body must be a JSON object")
    settings, state = current().settings, current().oa
    token, aes_key = body.get("token") or settings.oa_token, body.get("aes_key") or settings.oa_aes_key
    appid = body.get("appid") or settings.oa_app_id
    url = body.get("url") or settings.bot_callback_url
    if "resend" in body:
        return _resend(body["resend"], url, token, aes_key, appid)
    openid = _openid(body, settings, state)
    fields = _message(body, openid, state)
    timestamp = str(body.get("timestamp") or int(time.time()))
    nonce = str(body.get("nonce") or secrets.randbelow(10 ** 10))  # WeChat's nonces are digits
    plain = xmltodict.unparse({"xml": fields}, full_document=False)
    query = {"signature": _sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
             "openid": openid}
    payload = plain
    if body.get("encrypt", bool(aes_key)):
        crypto = WeChatCrypto(token, aes_key, appid)
        envelope = xmltodict.parse(crypto.encrypt_message(plain, nonce, timestamp))["xml"]
        payload = xmltodict.unparse({"xml": {"ToUserName": fields["ToUserName"], "Encrypt": envelope["Encrypt"]}},
                                    full_document=False)
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
    if isinstance(body.get("signature"), str):
        query["signature"] = body["signature"]  # a forger's guess
    _track_follow(fields, openid, state)
    if fields.get("MsgType") == "text" or fields.get("Event") in REPLY_WINDOW_EVENTS:
        current().messages.note_interaction(openid, now_s())  # opens the 48-hour customer-message window
    result = _post(url, query, payload, token, aes_key, appid)
    return jsonify({**result, "openid": openid, "sent": {"query": query, "body": payload, "xml": plain}})


def _resend(sent, url, token, aes_key, appid):
    """The same request again, byte for byte (`sent` as an earlier answer gave it: query and body)."""
    if not (isinstance(sent, dict) and isinstance(sent.get("query"), dict) and isinstance(sent.get("body"), str)):
        raise ControlError(400, "invalid_field", "'resend' is the 'sent' of an earlier answer: {query, body}")
    query = {str(k): str(v) for k, v in sent["query"].items()}
    return jsonify({**_post(url, query, sent["body"], token, aes_key, appid), "openid": query.get("openid"),
                    "sent": {"query": query, "body": sent["body"], "xml": sent.get("xml")}})


def _post(url, query, payload, token, aes_key, appid):
    crypto = WeChatCrypto(token, aes_key, appid) if query.get("encrypt_type") == "aes" else None
    try:
        answer = requests.post(f"{url}?{urlencode(query)}", data=payload.encode("utf-8"),
                               headers={"Content-Type": "text/xml"}, timeout=WECHAT_TIMEOUT_S)
    except requests.RequestException as exc:
        raise ControlError(502, "callback_unreachable", f"{type(exc).__name__}: {exc}")
    return {"status_code": answer.status_code, "body": answer.text,
            "reply": _reply(answer, crypto) if answer.ok else None}


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
    following = fields.get("Event") != "unsubscribe"  # WeChat takes messages from followers only
    state.set_following(openid, following)
    log = current().messages
    with log.lock:
        (log.unfollowed.discard if following else log.unfollowed.add)(openid)


def _reply(answer, crypto):
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
