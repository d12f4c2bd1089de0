"""The PaymentGateway port over WeChat Pay v2 (JSAPI), through wechatpy.

One merchant with two bound appids: the mini-program's (wx.requestPayment) and the official account's (a page in
WeChat's browser: getBrandWCPayRequest), a wechatpy client each, the same mch_id and API key. An order is made for
the appid of the door the person came through and every later call on it (orderquery, closeorder, refund,
refundquery) carries that appid: WeChat answers for an order only under its own appid.

Pointed at WeChat or at the sandbox by base URL (WECHAT_NOTES.md). Every outgoing field goes
through `pay_fields` first, so what passes against the sandbox also passes in production.
"""
import datetime as dt
import secrets

from wechatpy.exceptions import WeChatPayException
from wechatpy.pay import WeChatPay

from groupbuy.ports import MINIAPP, OFFICIAL_ACCOUNT, GatewayError, OrderStatus, Prepay, RefundAccepted, RefundStatus

from . import pay_fields
from .pay_http import PayHttp

# Refund errors a retry cannot fix (an operator must look); anything else (SYSTEMERROR,
# BIZERR_NEED_RETRY, NOTENOUGH, FREQUENCY_LIMITED, ORDER_NOT_READY, network) is retried with backoff.
FINAL_REFUND_ERRORS = {'INVALID_REQUEST', 'PARAM_ERROR', 'ORDERNOTEXIST', 'SIGNERROR', 'INVALID_TRANSACTIONID',
                       'APPID_NOT_EXIST', 'MCHID_NOT_EXIST', 'XML_FORMAT_ERROR', 'ERROR', 'REFUND_FEE_MISMATCH',
                       'TRADE_OVERDUE', 'USER_ACCOUNT_ABNORMAL', 'CERT_ERROR', 'NOAUTH'}


def make_pay(settings, appid: str | None = None, http: PayHttp | None = None) -> WeChatPay:
    """wechatpy's Pay client for `appid` (default: the mini-program's) on the one merchant. `http`: another
    client's connection pool to share (both appids talk to the same host)."""
    pay = WeChatPay(appid or settings.wechat_app_id, settings.wechat_api_key, settings.wechat_mch_id,
                    mch_cert=settings.wechat_mch_cert or None, mch_key=settings.wechat_mch_key or None,
                    timeout=10)
    pay.API_BASE_URL = settings.wechat_pay_base_url
    # Every join asks WeChat for a prepay id: a connection kept per concurrent join (requests keeps 10, and opens,
    # then drops, one more per call beyond that), the environment read once, and no requests layer per call.
    pay._http = http or PayHttp(settings.wechat_pay_base_url, settings.pay_http_pool_size,
                                cert=(settings.wechat_mch_cert, settings.wechat_mch_key)
                                if settings.wechat_mch_cert else None)
    return pay


def make_oa_pay(settings, mini_program_pay: WeChatPay) -> WeChatPay | None:
    """The official account's Pay client (H5 in WeChat's browser), sharing the mini-program client's pool; None
    without an official account. WECHAT_OA_PAY=0 does not drop it, it only closes the door to new orders
    (`WeChatPayGateway(official_account_door=...)`): the orders made under its appid while the door was open still
    need their notifications, orderquery, closeorder, refund and refundquery, under that appid."""
    if not settings.wechat_oa_app_id:
        return None
    return make_pay(settings, settings.wechat_oa_app_id, http=mini_program_pay._http)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class WeChatPayGateway:
    """PaymentGateway over WeChat Pay v2. `pay` is the mini-program's client, `official_account` the official
    account's (None: no official account). `official_account_door` False (WECHAT_OA_PAY=0): no new orders through
    it, while its appid stays one of `apps` for the orders already made under it. `now` is the wall clock (naive
    UTC): time_expire is judged by WeChat's clock, not the domain's."""

    def __init__(self, pay: WeChatPay, notify_url: str, refund_notify_url: str, now=_utc_now,
                 official_account: WeChatPay | None = None, official_account_door: bool = True):
        self.pay = pay
        self.doors = {MINIAPP: pay, OFFICIAL_ACCOUNT: official_account if official_account_door else None}
        # every appid an order of ours may be under: what a notification's appid and every later call go by
        self.apps = {client.appid: client for client in (pay, official_account) if client is not None}
        self.notify_url = pay_fields.notify_url(notify_url)  # a bad PUBLIC_BASE_URL fails at start
        self.refund_notify_url = pay_fields.notify_url(refund_notify_url)
        self._now = now

    def client_for(self, appid: str | None) -> WeChatPay:
        """The client of the appid an order was made for (None: an order from before appids were kept, the
        mini-program's). Raises GatewayError, not retryable, for an appid no longer configured."""
        client = self.pay if appid is None else self.apps.get(appid)
        if client is None:
            raise GatewayError(f'appid {appid} is not one of ours (WECHAT_APP_ID, WECHAT_OA_APP_ID)',
                               code='APPID_NOT_CONFIGURED', retryable=False)
        return client

    def create_prepay(self, *, out_trade_no, amount_fen, description, openid, expires_at, client_ip,
                      door=MINIAPP) -> Prepay:
        """A JSAPI order for the appid of `door`, and the five fields its page signs with (paySign by wechatpy)."""
        pay = self.doors.get(door)
        if pay is None:
            raise GatewayError(f'payments through {door} are off (its appid is not configured, or WECHAT_OA_PAY=0)',
                               code='APPID_NOT_CONFIGURED', retryable=False)
        try:
            fields = dict(body=pay_fields.body(description), out_trade_no=pay_fields.out_trade_no(out_trade_no),
                          client_ip=pay_fields.client_ip(client_ip),
                          time_expire=pay_fields.time_expire(expires_at, self._now()))
        except pay_fields.PayFieldError as exc:
            raise GatewayError(str(exc), code='PARAM_ERROR', retryable=False) from exc
        try:
            result = pay.order.create(trade_type='JSAPI', total_fee=amount_fen, notify_url=self.notify_url,
                                      user_id=openid, **fields)
        except (WeChatPayException, OSError) as exc:
            raise _gateway_error(exc) from exc
        prepay_id = result['prepay_id']
        # the cashier's nonce from the system's randomness (wechatpy's default draws 32 characters one by one from
        # `random`: a join's 1 %, and not a secret's source)
        params = pay.jsapi.get_jsapi_params(prepay_id, nonce_str=secrets.token_hex(16))
        return Prepay(prepay_id=prepay_id, pay_params=params, appid=pay.appid)

    def query_order(self, out_trade_no: str, appid: str | None = None) -> OrderStatus:
        """orderquery; an order WeChat never saw is NOTFOUND."""
        pay = self.client_for(appid)
        result = _unless_never_seen(lambda: pay.order.query(out_trade_no=out_trade_no), 'ORDERNOTEXIST')
        if result is None:
            return OrderStatus('NOTFOUND')
        return OrderStatus(str(result.get('trade_state') or ''), str(result.get('transaction_id') or ''),
                           int(result.get('total_fee') or 0), beijing_to_utc(result.get('time_end')))

    def close_order(self, out_trade_no: str, appid: str | None = None) -> str:
        """'closed' (also when WeChat had closed it already, or never saw it: nobody can pay it), or
        'paid' when WeChat answers ORDERPAID."""
        pay = self.client_for(appid)
        try:
            pay.order.close(out_trade_no)
        except (WeChatPayException, OSError) as exc:
            code = getattr(exc, 'errcode', None)
            if code == 'ORDERPAID':
                return 'paid'
            if code in ('ORDERCLOSED', 'ORDERNOTEXIST'):
                return 'closed'
            raise _gateway_error(exc) from exc
        return 'closed'

    def refund(self, *, out_trade_no, out_refund_no, total_fen, refund_fen, appid=None) -> RefundAccepted:
        try:
            result = self.client_for(appid).refund.apply(total_fee=total_fen, refund_fee=refund_fen,
                                                         out_refund_no=out_refund_no, out_trade_no=out_trade_no,
                                                         notify_url=self.refund_notify_url)
        except (WeChatPayException, OSError) as exc:
            error = _gateway_error(exc)
            error.retryable = error.code not in FINAL_REFUND_ERRORS
            raise error from exc
        return RefundAccepted(refund_id=result.get('refund_id', ''))

    def query_refund(self, out_refund_no: str, appid: str | None = None) -> RefundStatus:
        pay = self.client_for(appid)
        result = _unless_never_seen(lambda: pay.refund.query(out_refund_no=out_refund_no), 'REFUNDNOTEXIST')
        if result is None:
            return RefundStatus('NOTFOUND')
        return RefundStatus(str(result.get('refund_status_0') or 'PROCESSING'), str(result.get('refund_id_0') or ''),
                            int(result.get('refund_fee_0') or result.get('refund_fee') or 0))


def _unless_never_seen(query, never_seen_code):
    """What the query (orderquery, refundquery) answers; None when WeChat answers `never_seen_code` (it
    has no such order or refund); any other failure as a GatewayError."""
    try:
        return query()
    except (WeChatPayException, OSError) as exc:
        if getattr(exc, 'errcode', None) == never_seen_code:
            return None
        raise _gateway_error(exc) from exc


def _gateway_error(exc) -> GatewayError:
    """WeChat's answer (err_code, else FAIL for a protocol error) or a network failure (NETWORK)."""
    if isinstance(exc, WeChatPayException):
        return GatewayError(exc.errmsg or exc.return_msg or exc.errcode or 'WeChat Pay error',
                            code=exc.errcode or exc.return_code or '')
    return GatewayError(f'{type(exc).__name__}: {exc}', code='NETWORK')


def beijing_to_utc(time_end) -> dt.datetime | None:
    """WeChat's yyyyMMddHHmmss (Beijing time) as naive UTC; None when absent or malformed."""
    try:
        return dt.datetime.strptime(str(time_end), '%Y%m%d%H%M%S') - dt.timedelta(hours=8)
    except (TypeError, ValueError, OverflowError):  # OverflowError: before 0001-01-01 08:00 Beijing time
        return None

