"""`/wechat/callback`: WeChat's push protocol for the official account.

GET is WeChat checking the URL (echo `echostr` if the signature holds). POST is a message or an
event; `push` decides whether WeChat sent it (signature, 5-minute timestamp window, safe mode's
msg_signature, one body per nonce), and our reply is encrypted like the push. WeChat retries a
push it got no answer to within 5 s, up to three times: each push is handled once (Redis), and
a retry gets the first answer again.
"""
import hashlib
import logging

from flask import Blueprint, Response, request
from wechatpy import create_reply, parse_message

from groupbuy.models import User
from groupbuy.once import first_time, forget
from miniapp_api.runtime import runtime

from . import conversation
from .push import NONCE_TTL_S, Refused, check_url, open_push

bp = Blueprint('wechat_bot', __name__)
log = logging.getLogger(__name__)
REPLY_TTL_S = NONCE_TTL_S  # a retry (or a replay) of an accepted push never finds its first answer gone


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype='text/plain')


@bp.errorhandler(Refused)
def _refused(exc: Refused):
    return _text(exc.reason, exc.status)  # WeChat reads nothing from a refusal


@bp.get('/wechat/callback')
def confirm_url():
    check_url(runtime().settings, request.args)
    return _text(request.args.get('echostr', ''))


@bp.post('/wechat/callback')
def receive():
    rt = runtime()
    push = open_push(rt, request.args, request.get_data())
    try:
        message = parse_message(push.xml)
    except Exception:  # noqa: BLE001 — not XML, or not WeChat's shape
        message = None
    if message is None or not _well_formed(message):
        return _text('unreadable message', 400)
    reply = _answer_once(rt, message)
    if not reply:
        return _text('success')  # WeChat's word for "received, nothing to say"
    xml = create_reply(reply, message).render()
    if push.crypto is not None:
        xml = push.crypto.encrypt_message(xml, request.args['nonce'], request.args['timestamp'])
    return Response(xml, mimetype='application/xml')


def _well_formed(message) -> bool:
    """WeChat's shape: a sender that is an openid, whole-number CreateTime and MsgId."""
    try:
        _ = message.time, message.id  # wechatpy converts them on access
    except (TypeError, ValueError):
        return False
    return 0 < len(message.source or '') <= User.oa_openid.max_length


def delivery_key(message) -> str:
    """Names one push however often WeChat retries it: MsgId, else sender + time + event + key."""
    if message.id:
        return f'msg:{message.id}'
    data = getattr(message, '_data', {})
    return f'evt:{message.source}:{message.time}:{data.get("Event", "")}:{data.get("EventKey", "")}'


def _answer_once(rt, message) -> str | None:
    key = delivery_key(message)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    stored = f'{rt.settings.key_prefix}bot:reply:{digest}'
    if not first_time(rt.deps, 'bot-push', digest, REPLY_TTL_S):
        earlier = rt.redis.get(stored)  # None while the first delivery is still being handled
        log.info('WeChat retried %s; answering as before', key)
        return earlier.decode() if earlier else None
    try:
        reply = conversation.answer(rt, message, digest)
    except Exception:
        forget(rt.deps, 'bot-push', digest)  # let WeChat's retry try again
        raise
    rt.redis.set(stored, reply or '', ex=REPLY_TTL_S)
    return reply
