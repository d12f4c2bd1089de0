"""`/wechat/callback`: WeChat's push protocol for the official account.

GET is WeChat checking the URL (echo `echostr` if the signature holds). POST is a message or an
event: the signature over (token, timestamp, nonce) must hold and the timestamp be within 5
minutes (a captured request cannot be replayed later); in safe mode (`encrypt_type=aes`) the
body is AES-encrypted and signed again (msg_signature), and so is our reply. WeChat retries a
push it got no answer to within 5 s, up to three times: each push is handled once (Redis), and
a retry gets the first answer again.
"""
import hashlib
import logging
import time

from flask import Blueprint, Response, request
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from groupbuy.once import first_time, forget
from miniapp_api.runtime import runtime

from . import conversation

bp = Blueprint('wechat_bot', __name__)
log = logging.getLogger(__name__)
WINDOW_S = 300
REPLY_TTL_S = 300


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype='text/plain')


def _verified(settings) -> Response | None:
    """None if WeChat signed this request just now; else the refusal to send."""
    if not settings.wechat_oa_token:
        return _text('the official account is not configured', 503)
    args = request.args
    try:
        check_signature(settings.wechat_oa_token, args.get('signature', ''), args.get('timestamp', ''),
                        args.get('nonce', ''))
        fresh = abs(time.time() - int(args.get('timestamp', ''))) <= WINDOW_S
    except (InvalidSignatureException, ValueError):
        log.warning('refused a callback with a bad signature from %s', request.remote_addr)
        return _text('invalid signature', 403)
    return None if fresh else _text('stale timestamp', 403)


@bp.get('/wechat/callback')
def confirm_url():
    refused = _verified(runtime().settings)
    return refused or _text(request.args.get('echostr', ''))


@bp.post('/wechat/callback')
def receive():
    rt = runtime()
    settings, args = rt.settings, request.args
    refused = _verified(settings)
    if refused:
        return refused
    crypto = None
    raw = request.get_data()
    if args.get('encrypt_type') == 'aes':
        if not settings.wechat_oa_aes_key:
            return _text('encrypted message but no WECHAT_OA_AES_KEY', 400)
        crypto = WeChatCrypto(settings.wechat_oa_token, settings.wechat_oa_aes_key, settings.wechat_oa_app_id)
        try:
            raw = crypto.decrypt_message(raw, args.get('msg_signature', ''), args['timestamp'], args['nonce'])
        except (InvalidSignatureException, InvalidAppIdException):
            return _text('invalid msg_signature', 403)
        except Exception:  # noqa: BLE001 — malformed envelope or ciphertext
            return _text('unreadable encrypted message', 400)
    try:
        message = parse_message(raw)
    except Exception:  # noqa: BLE001 — not XML, or not WeChat's shape
        message = None
    if message is None or not message.source:
        return _text('unreadable message', 400)
    reply = _answer_once(rt, message)
    if not reply:
        return _text('success')  # WeChat's word for "received, nothing to say"
    xml = create_reply(reply, message).render()
    if crypto is not None:
        xml = crypto.encrypt_message(xml, args['nonce'], args['timestamp'])
    return Response(xml, mimetype='application/xml')


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
