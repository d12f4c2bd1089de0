"""Messages the app sends to users through WeChat, kept so tests, the demo and a curious developer
can see what each user received (`GET /sandbox/messages?openid=`).

- mini-program subscribe message `POST /cgi-bin/message/subscribe/send`: WeChat's one-time consent
  rule — each send uses one consent the user gave for that template (`POST /sandbox/subscriptions`
  plays the user tapping "allow"); without one WeChat answers 43101.
- official-account template message `POST /cgi-bin/message/template/send` (43004 to a non-follower;
  followers are tracked by `POST /sandbox/oa/followers`).
- customer-service message `POST /cgi-bin/message/custom/send` (text, miniprogrampage, ...).
`POST /sandbox/messages/fail-next {count, errcode}` makes the next sends fail, to drive retries.
"""
import itertools
import threading

from flask import Blueprint, jsonify, request

from . import ids
from .login import wx_error
from .runtime import current

bp = Blueprint("wechat_messages", __name__)


class MessageLog:
    """Sent messages, one-time subscribe consents, official-account followers, forced failures."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages, self.consents, self.unfollowed = [], {}, set()
        self.fail_next, self.fail_errcode = 0, 45009
        self._ids = itertools.count(1)

    def record(self, kind, openid, **fields):
        with self.lock:
            message = {"id": next(self._ids), "kind": kind, "openid": openid,
                       "time": ids.now().isoformat(), **fields}
            self.messages.append(message)
            return message

    def take_failure(self):
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return self.fail_errcode
            return None

    def take_consent(self, openid, template_id):
        with self.lock:
            left = self.consents.get((openid, template_id), 0)
            if left <= 0:
                return False
            self.consents[(openid, template_id)] = left - 1
            return True


def log_of():
    return current().messages


def _json():
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else None


def _checked(required):
    """(body, error): the JSON body if it has the fields and a token was sent, else WeChat's error."""
    if not request.args.get("access_token"):
        return None, wx_error(41001, "access_token missing")
    body = _json()
    if body is None:
        return None, wx_error(47001, "data format error")
    missing = [f for f in required if not body.get(f)]
    if missing:
        return None, wx_error(41030 if "page" in missing else 47003, f"argument invalid! {missing[0]}")
    errcode = log_of().take_failure()
    if errcode:
        return None, wx_error(errcode, "forced failure (sandbox)")
    return body, None


@bp.post("/cgi-bin/message/subscribe/send")
def subscribe_send():
    body, error = _checked(("touser", "template_id", "data"))
    if error:
        return error
    if not log_of().take_consent(body["touser"], body["template_id"]):
        return wx_error(43101, "user refuse to accept the msg")
    message = log_of().record("subscribe", body["touser"], template=body["template_id"],
                              data=body["data"], page=body.get("page"))
    return jsonify({"errcode": 0, "errmsg": "ok", "msgid": message["id"]})


@bp.post("/cgi-bin/message/template/send")
def template_send():
    body, error = _checked(("touser", "template_id", "data"))
    if error:
        return error
    if body["touser"] in log_of().unfollowed:
        return wx_error(43004, "require subscribe")
    message = log_of().record("template", body["touser"], template=body["template_id"], data=body["data"],
                              url=body.get("url"), mini_program=body.get("miniprogram"))
    return jsonify({"errcode": 0, "errmsg": "ok", "msgid": message["id"]})


@bp.post("/cgi-bin/message/custom/send")
def custom_send():
    body, error = _checked(("touser", "msgtype"))
    if error:
        return error
    kind = body["msgtype"]
    log_of().record("custom", body["touser"], msgtype=kind, data=body.get(kind))
    return jsonify({"errcode": 0, "errmsg": "ok"})


@bp.post("/sandbox/subscriptions")
def grant_subscriptions():
    """The user tapped "allow" in wx.requestSubscribeMessage: one consent per template."""
    body = _json() or {}
    openid, templates = body.get("openid"), body.get("template_ids")
    if not isinstance(openid, str) or not isinstance(templates, list) or \
            not all(isinstance(t, str) and t for t in templates):
        return jsonify({"error": {"code": "invalid_field",
                                  "message": "openid (string) and template_ids (list of strings) are required"}}), 400
    log = log_of()
    with log.lock:
        for template in templates:
            log.consents[(openid, template)] = log.consents.get((openid, template), 0) + 1
        left = {t: log.consents[(openid, t)] for t in templates}
    return jsonify({"openid": openid, "consents": left})


@bp.post("/sandbox/oa/followers")
def set_follower():
    """`{openid, following: bool}`: whether template messages reach this official-account user."""
    body = _json() or {}
    if not isinstance(body.get("openid"), str) or not isinstance(body.get("following"), bool):
        return jsonify({"error": {"code": "invalid_field", "message": "openid and following (bool) are required"}}), 400
    log = log_of()
    with log.lock:
        (log.unfollowed.discard if body["following"] else log.unfollowed.add)(body["openid"])
    return jsonify(body)


@bp.post("/sandbox/messages/fail-next")
def fail_next_messages():
    body = _json() or {}
    count, errcode = body.get("count"), body.get("errcode", 45009)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0 or not isinstance(errcode, int):
        return jsonify({"error": {"code": "invalid_field", "message": "count must be a whole number ≥ 0"}}), 400
    log = log_of()
    with log.lock:
        log.fail_next, log.fail_errcode = count, errcode
    return jsonify({"count": count, "errcode": errcode})


@bp.get("/sandbox/messages")
def list_messages():
    openid, kind = request.args.get("openid"), request.args.get("kind")
    log = log_of()
    with log.lock:
        found = [m for m in log.messages
                 if (openid is None or m["openid"] == openid) and (kind is None or m["kind"] == kind)]
    return jsonify({"messages": found})
