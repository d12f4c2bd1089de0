"""Whether a request to `/wechat/callback` really is WeChat, now, saying this.

WeChat signs only (token, timestamp, nonce) in `signature`, never the body, and the query string
travels wherever URLs go (proxies, logs). So:

- In safe mode (an EncodingAESKey is configured) only encrypted pushes count: `msg_signature`
  covers the ciphertext and only WeChat can encrypt, so a captured query string cannot carry a
  body of someone else's making. A plaintext push is refused; compatible mode is not offered.
- A (timestamp, nonce) is bound to the first body it came with, for as long as that timestamp is
  accepted, in Redis (all processes): a different body under it is refused. The same body again is
  let through because WeChat's retries are the same request byte for byte — same signature,
  timestamp and nonce (docs/WECHAT_SETUP.md, "Why the bot's callback cannot be forged") — and
  `callback` answers them with the first reply without acting again. So a verbatim replay gets
  only that reply, which in safe mode is ciphertext to anyone but WeChat.
"""
import hashlib
import logging
import time
from dataclasses import dataclass

from flask import request
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from gateways.wechat_xml import DtdRefused, Unreadable, parse
from groupbuy.once import same_as_first

log = logging.getLogger(__name__)
WINDOW_S = 300  # how far a push's timestamp may be from our clock
NONCE_TTL_S = 2 * WINDOW_S  # outlives every moment the nonce's timestamp is accepted


class Refused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass
class Push:
    xml: bytes  # the message, decrypted
    crypto: WeChatCrypto | None  # encrypts the reply in safe mode


def check_url(settings, args) -> None:
    """WeChat's GET check of the URL: signed like every push (safe mode signs it the same way)."""
    _check_signature(settings, args)


def open_push(rt, args, body: bytes) -> Push:
    """The push's XML if WeChat sent it just now and this nonce came with no other body; else Refused."""
    settings = rt.settings
    _check_signature(settings, args)
    encrypted, safe = args.get('encrypt_type') == 'aes', bool(settings.wechat_oa_aes_key)
    if safe and not encrypted:
        raise Refused(403, 'safe mode: only encrypted pushes are accepted')
    if encrypted and not safe:
        raise Refused(400, 'encrypted push but no WECHAT_OA_AES_KEY')
    _refuse_dtd(body)
    crypto = None
    if encrypted:
        crypto = WeChatCrypto(settings.wechat_oa_token, settings.wechat_oa_aes_key, settings.wechat_oa_app_id)
        try:
            body = crypto.decrypt_message(body, args.get('msg_signature', ''), args['timestamp'],
                                          args.get('nonce', '')).encode()
        except (InvalidSignatureException, InvalidAppIdException):
            raise Refused(403, 'invalid msg_signature')
        except Exception:  # noqa: BLE001 — malformed envelope or ciphertext
            raise Refused(400, 'unreadable encrypted push')
        _refuse_dtd(body)
    nonce = hashlib.sha256(f'{args["timestamp"]}:{args.get("nonce", "")}'.encode()).hexdigest()[:32]
    if not same_as_first(rt.deps, 'bot-nonce', nonce, hashlib.sha256(body).hexdigest(), NONCE_TTL_S):
        log.warning('refused a push reusing a nonce with another body, from %s', request.remote_addr)
        raise Refused(403, 'nonce already used')
    return Push(body, crypto)


def _check_signature(settings, args) -> None:
    if not settings.wechat_oa_token:
        raise Refused(503, 'the official account is not configured')
    try:
        check_signature(settings.wechat_oa_token, args.get('signature', ''), args.get('timestamp', ''),
                        args.get('nonce', ''))
        fresh = abs(time.time() - int(args.get('timestamp', ''))) <= WINDOW_S
    except (InvalidSignatureException, ValueError, OverflowError):  # OverflowError: a 400-digit timestamp
        log.warning('refused a push with a bad signature from %s', request.remote_addr)
        raise Refused(403, 'invalid signature')
    if not fresh:
        raise Refused(403, 'stale timestamp')


def _refuse_dtd(xml: bytes) -> None:
    """WeChat never sends a DTD; one is an entity-expansion attempt, refused before wechatpy's parser sees
    it (whatever its encoding). Other unreadable bodies are left to that parser's own refusal."""
    try:
        parse(xml)
    except DtdRefused:
        raise Refused(400, 'a DTD is not accepted')
    except Unreadable:
        pass
