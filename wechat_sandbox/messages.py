"""Messages the app sends to users through WeChat, checked as WeChat checks them and kept, so tests, the
demo and a curious developer can see what each user received (`GET /sandbox/messages?openid=`).

- subscribe message `POST /cgi-bin/message/subscribe/send` (mini-program): touser required (40003), a
  template the mini-program holds (40037), data that keeps its keywords' rules (47003, templates.py),
  and one one-time consent for (openid, template) — `POST /sandbox/subscriptions` plays the user
  tapping "allow"; without one, 43101.
- template message `POST /cgi-bin/message/template/send` (official account): touser (40003), a template
  the account holds (40037), to a follower (43004; `POST /sandbox/oa/followers`).
- customer-service message `POST /cgi-bin/message/custom/send`: touser (40003), a msgtype (40008), and
  only within 48 hours of the user's last message, follow, QR scan or menu click (45015). Pushes
  through `/sandbox/bot/send` count; `POST /sandbox/oa/interactions` records one directly.
Rare failures (45009, -1, ...) are forced with `POST /sandbox/api/fail-next` (gate.py).
"""
import itertools
import threading

from flask import Blueprint, jsonify, request

from . import gate, ids, templates
from .api_errors import wx_error
from .control import error_response
from .runtime import current, now_s

bp = Blueprint("wechat_messages", __name__)
gate.guard(bp)

REPLY_WINDOW_S = 48 * 3600
REPLY_WINDOW_EVENTS = ("subscribe", "SCAN", "CLICK")  # pushed events that open the 48 h reply window (not VIEW)
TEMPLATE_KINDS = {"subscribe": "mini-program subscribe message", "template": "official-account template message"}


class MessageLog:
    """Sent messages, one-time subscribe consents, followers, templates held, users' last interaction."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages, self.consents, self.unfollowed = [], {}, set()
        self.templates = {"subscribe": dict(templates.SUBSCRIBE), "template": dict(templates.OFFICIAL_ACCOUNT)}
        self.last_seen = {}  # openid -> sandbox-clock seconds of their last interaction with the account
        self._ids = itertools.count(1)

    def record(self, kind, openid, **fields):
        with self.lock:
            message = {"id": next(self._ids), "kind": kind, "openid": openid,
                       "time": ids.now().isoformat(), **fields}
            self.messages.append(message)
            return message

    def take_consent(self, openid, template_id):
        with self.lock:
            left = self.consents.get((openid, template_id), 0)
            if left <= 0:
                return False
            self.consents[(openid, template_id)] = left - 1
            return True

    def keywords(self, kind, template_id):
        with self.lock:
            return self.templates[kind].get(template_id) if isinstance(template_id, str) else None

    def note_interaction(self, openid, when):
        with self.lock:
            self.last_seen[openid] = when

    def may_reply(self, openid, now):
        with self.lock:
            seen = self.last_seen.get(openid)
        return seen is not None and now - seen <= REPLY_WINDOW_S


def log_of():
    return current().messages


def _json():
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else None


def _send_body():
    """(body, error): the JSON body with a usable touser, else WeChat's error."""
    body = _json()
    if body is None:
        return None, wx_error(47001)
    if not isinstance(body.get("touser"), str) or not body["touser"]:
        return None, wx_error(40003)
    return body, None


@bp.post("/cgi-bin/message/subscribe/send")
def subscribe_send():
    body, error = _send_body()
    if error:
        return error
    keywords = log_of().keywords("subscribe", body.get("template_id"))
    if keywords is None:
        return wx_error(40037)
    problem = templates.data_problem(keywords, body.get("data"))
    if problem:
        return wx_error(47003, f"argument invalid! {problem}")
    if not log_of().take_consent(body["touser"], body["template_id"]):
        return wx_error(43101)
    message = log_of().record("subscribe", body["touser"], template=body["template_id"],
                              data=body["data"], page=body.get("page"))
    return jsonify({"errcode": 0, "errmsg": "ok", "msgid": message["id"]})


@bp.post("/cgi-bin/message/template/send")
def template_send():
    body, error = _send_body()
    if error:
        return error
    if log_of().keywords("template", body.get("template_id")) is None:
        return wx_error(40037)
    if not isinstance(body.get("data"), dict):
        return wx_error(47003, "argument invalid! data is empty")
    if body["touser"] in log_of().unfollowed:
        return wx_error(43004)
    message = log_of().record("template", body["touser"], template=body["template_id"], data=body["data"],
                              url=body.get("url"), mini_program=body.get("miniprogram"))
    return jsonify({"errcode": 0, "errmsg": "ok", "msgid": message["id"]})


@bp.post("/cgi-bin/message/custom/send")
def custom_send():
    body, error = _send_body()
    if error:
        return error
    kind = body.get("msgtype")
    if not isinstance(kind, str) or not isinstance(body.get(kind), dict):
        return wx_error(40008)
    if not log_of().may_reply(body["touser"], now_s()):
        return wx_error(45015)
    log_of().record("custom", body["touser"], msgtype=kind, data=body[kind])
    return jsonify({"errcode": 0, "errmsg": "ok"})


@bp.post("/sandbox/oa/interactions")
def note_interaction():
    """`{openid}`: the user just messaged the account (or followed, scanned, clicked): 48 hours of replies."""
    body = _json() or {}
    if not isinstance(body.get("openid"), str) or not body["openid"]:
        return error_response(400, "invalid_field", "openid (string) is required")
    log_of().note_interaction(body["openid"], now_s())
    return jsonify({"openid": body["openid"], "reply_window_s": REPLY_WINDOW_S})


@bp.post("/sandbox/subscriptions")
def grant_subscriptions():
    """The user tapped "allow" in wx.requestSubscribeMessage: one consent per template."""
    body = _json() or {}
    openid, template_ids = body.get("openid"), body.get("template_ids")
    if not isinstance(openid, str) or not isinstance(template_ids, list) or \
            not all(isinstance(t, str) and t for t in template_ids):
        return error_response(400, "invalid_field", "openid (string) and template_ids (list of strings) are required")
    log = log_of()
    with log.lock:
        for template in template_ids:
            log.consents[(openid, template)] = log.consents.get((openid, template), 0) + 1
        left = {t: log.consents[(openid, t)] for t in template_ids}
    return jsonify({"openid": openid, "consents": left})


@bp.post("/sandbox/oa/followers")
def set_follower():
    """`{openid, following: bool}`: whether template messages reach this official-account user."""
    body = _json() or {}
    if not isinstance(body.get("openid"), str) or not isinstance(body.get("following"), bool):
        return error_response(400, "invalid_field", "openid and following (bool) are required")
    log = log_of()
    with log.lock:
        (log.unfollowed.discard if body["following"] else log.unfollowed.add)(body["openid"])
    return jsonify(body)


@bp.route("/sandbox/templates", methods=["GET", "POST"])
def message_templates():
    """The templates the accounts hold. POST `{kind: subscribe|template, template_id, keywords: [...]}`
    adds one (as an operator picks it in WeChat's console); GET lists them."""
    log = log_of()
    if request.method == "POST":
        body = _json() or {}
        kind, template_id, keywords = body.get("kind"), body.get("template_id"), body.get("keywords")
        if kind not in TEMPLATE_KINDS or not isinstance(template_id, str) or not template_id or \
                not isinstance(keywords, list) or not keywords or \
                not all(isinstance(k, str) and k.isidentifier() for k in keywords):
            return error_response(400, "invalid_field", "kind (subscribe or template), template_id and keywords "
                                  "(a list of names such as thing1, time2) are required")
        with log.lock:
            log.templates[kind][template_id] = tuple(keywords)
    with log.lock:
        return jsonify({kind: {t: list(k) for t, k in held.items()} for kind, held in log.templates.items()})


@bp.get("/sandbox/messages")
def list_messages():
    openid, kind = request.args.get("openid"), request.args.get("kind")
    log = log_of()
    with log.lock:
        found = [m for m in log.messages
                 if (openid is None or m["openid"] == openid) and (kind is None or m["kind"] == kind)]
    return jsonify({"messages": found})
