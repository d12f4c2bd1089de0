"""WeChat Pay's notifications (XML). We read the XML (defusedxml: no DTD, no entities), wechatpy checks
the signature; we check that the payment is for our app, our merchant and the order's exact amount;
the domain makes replays harmless.

WeChat retries anything not answered SUCCESS, so SUCCESS means "recorded, stop"; FAIL (HTTP 400)
means "not accepted" and leaves every row as it was.
"""
import logging
from flask import Blueprint, Response, request
from wechatpy.pay.utils import dict_to_xml

from gateways.wechat_pay import beijing_to_utc
from gateways.wechat_xml import Unreadable, flat_fields
from groupbuy import errors, payments, refunds

from .runtime import runtime

bp = Blueprint('pay_callbacks', __name__)
log = logging.getLogger(__name__)


def _answer(ok: bool, message: str = 'OK', status: int = 200) -> Response:
    message = message.replace(']]>', '')  # wechatpy puts it in CDATA unescaped
    body = dict_to_xml({'return_code': 'SUCCESS' if ok else 'FAIL', 'return_msg': message}, '')
    body = body.replace('<sign></sign>', '')
    return Response(body, status=status, mimetype='text/xml')


def _reject(message: str) -> Response:
    log.warning('rejected pay notification: %s', message)
    return _answer(False, message, 400)


def _fen(value: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) <= 12):
        raise ValueError(f'not an amount in fen: {value[:20]!r}')
    return int(value)


def _is_ours(data: dict) -> bool:
    """Our merchant, and one of its appids (the mini-program's or the official account's): both pay the same way."""
    rt = runtime()
    return data.get('appid') in rt.pay_clients and data.get('mch_id') == rt.settings.wechat_mch_id


@bp.post('/api/pay/notify')
def payment_notify():
    rt = runtime()
    try:
        data = flat_fields(request.get_data())
    except Unreadable as exc:
        return _reject(str(exc))
    if not rt.wechat_pay.check_signature(data):
        return _reject('invalid signature')
    if data.get('return_code') != 'SUCCESS' or data.get('result_code') != 'SUCCESS':
        return _answer(True)  # a failed payment moves no money; the seat's pay window handles it
    if not _is_ours(data):
        return _reject('appid or mch_id is not ours')
    try:
        notice = payments.PaymentNotice(out_trade_no=data['out_trade_no'], transaction_id=data['transaction_id'],
                                        amount_fen=_fen(data['total_fee']), paid_at=beijing_to_utc(data.get('time_end')),
                                        payer=str(data.get('openid') or '')[:64])
    except (KeyError, ValueError):
        return _reject('missing or malformed fields')
    try:
        outcome = payments.record_payment(rt.deps, notice)
    except errors.DomainError as exc:
        return _reject(f'{exc.code}: {exc.message}')
    log.info('payment %s: %s', notice.out_trade_no, outcome)
    return _answer(True)


@bp.post('/api/pay/refund-notify')
def refund_notify():
    """wechatpy (the client of the notification's appid) checks appid and mch_id and decrypts req_info with our
    API key (that is the proof). The appid is outside req_info and unsigned, and both appids share the key: the
    domain checks that the notice's appid and req_info's out_trade_no are its refund's order's."""
    rt = runtime()
    try:
        fields = flat_fields(request.get_data())
        data = rt.pay_clients.get(fields.get('appid'), rt.wechat_pay).parse_refund_notify_result(fields)
        notice = refunds.RefundNotice(out_refund_no=str(data['out_refund_no']),
                                      refund_status=str(data['refund_status']),
                                      refund_id=str(data.get('refund_id', '')),
                                      amount_fen=int(data['refund_fee']),
                                      out_trade_no=str(data['out_trade_no']), appid=str(fields['appid']))
    except Exception as exc:  # noqa: BLE001 — wechatpy raises many kinds on bad XML, wrong ids, bad crypto
        return _reject(f'unreadable refund notification ({type(exc).__name__})')
    try:
        outcome = refunds.record_refund_notice(rt.deps, notice)
    except errors.DomainError as exc:
        return _reject(f'{exc.code}: {exc.message}')
    log.info('refund %s: %s', notice.out_refund_no, outcome)
    return _answer(True)
