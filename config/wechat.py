"""wechatpy, pointed at WeChat or at the sandbox by base URL (see WECHAT_NOTES.md).

The app talks to WeChat only through these objects; the domain sees them through the ports in
`groupbuy.ports` (PaymentGateway) and never imports wechatpy.
"""
import datetime as dt

from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException, WeChatPayException
from wechatpy.pay import WeChatPay
from wechatpy.session.redisstorage import RedisStorage

from groupbuy.ports import GatewayError, Prepay, RefundAccepted, RefundStatus

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# WeChat errors a retry cannot fix; anything else (SYSTEMERROR, NOTENOUGH, network) is retried.
FINAL_REFUND_ERRORS = {'INVALID_REQUEST', 'PARAM_ERROR', 'ORDERNOTEXIST', 'SIGNERROR', 'INVALID_TRANSACTIONID',
                       'APPID_NOT_EXIST', 'MCHID_NOT_EXIST', 'XML_FORMAT_ERROR', 'ERROR'}


class BaseUrlWeChatClient(WeChatClient):
    """WeChatClient whose token URL follows API_BASE_URL (wechatpy hard-codes api.weixin.qq.com)."""

    def __init__(self, *args, base_url: str, **kwargs):
        self.API_BASE_URL = base_url + 'cgi-bin/'
        self._root_url = base_url
        super().__init__(*args, **kwargs)
        self.wxa.API_BASE_URL = base_url

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self._root_url + 'cgi-bin/token',
            params={'grant_type': 'client_credential', 'appid': self.appid, 'secret': self.secret})


def make_client(settings, redis) -> WeChatClient:
    storage = RedisStorage(redis, prefix=f'{settings.key_prefix}wechatpy')
    return BaseUrlWeChatClient(settings.wechat_app_id, settings.wechat_app_secret,
                               session=storage, timeout=10, base_url=settings.wechat_api_base_url)


def make_pay(settings) -> WeChatPay:
    pay = WeChatPay(settings.wechat_app_id, settings.wechat_api_key, settings.wechat_mch_id,
                    mch_cert=settings.wechat_mch_cert or None, mch_key=settings.wechat_mch_key or None,
                    timeout=10)
    pay.API_BASE_URL = settings.wechat_pay_base_url
    return pay


class LoginFailed(Exception):
    def __init__(self, errcode, message):
        super().__init__(message)
        self.errcode = errcode


def code_to_session(client: WeChatClient, code: str) -> dict:
    """{openid, session_key, unionid?} for a wx.login code. Raises LoginFailed."""
    try:
        return client.wxa.code_to_session(code)
    except WeChatClientException as exc:
        raise LoginFailed(exc.errcode, exc.errmsg or str(exc)) from exc


class WeChatPayGateway:
    """PaymentGateway over WeChat Pay v2 (JSAPI for the mini-program)."""

    def __init__(self, pay: WeChatPay, notify_url: str, refund_notify_url: str):
        self.pay = pay
        self.notify_url = notify_url
        self.refund_notify_url = refund_notify_url

    def create_prepay(self, *, out_trade_no, amount_fen, description, openid, expires_at, client_ip) -> Prepay:
        expire = expires_at.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)  # wechatpy formats it
        try:
            result = self.pay.order.create(trade_type='JSAPI', body=description, total_fee=amount_fen,
                                           notify_url=self.notify_url, client_ip=client_ip or '127.0.0.1',
                                           user_id=openid, out_trade_no=out_trade_no, time_expire=expire)
        except (WeChatPayException, OSError) as exc:
            raise GatewayError(_describe(exc), code=getattr(exc, 'errcode', '') or '') from exc
        prepay_id = result['prepay_id']
        return Prepay(prepay_id=prepay_id, pay_params=self.pay.jsapi.get_jsapi_params(prepay_id))

    def close_order(self, out_trade_no: str) -> None:
        try:
            self.pay.order.close(out_trade_no)
        except (WeChatPayException, OSError) as exc:
            raise GatewayError(_describe(exc), code=getattr(exc, 'errcode', '') or '') from exc

    def refund(self, *, out_trade_no, out_refund_no, total_fen, refund_fen) -> RefundAccepted:
        try:
            result = self.pay.refund.apply(total_fee=total_fen, refund_fee=refund_fen,
                                           out_refund_no=out_refund_no, out_trade_no=out_trade_no,
                                           notify_url=self.refund_notify_url)
        except WeChatPayException as exc:
            code = exc.errcode or exc.return_code or ''
            raise GatewayError(_describe(exc), code=code, retryable=code not in FINAL_REFUND_ERRORS) from exc
        except OSError as exc:
            raise GatewayError(_describe(exc), code='NETWORK') from exc
        return RefundAccepted(refund_id=result.get('refund_id', ''))

    def query_refund(self, out_refund_no: str) -> RefundStatus:
        try:
            result = self.pay.refund.query(out_refund_no=out_refund_no)
        except WeChatPayException as exc:
            if exc.errcode == 'REFUNDNOTEXIST':
                return RefundStatus('NOTFOUND')
            raise GatewayError(_describe(exc), code=exc.errcode or '') from exc
        except OSError as exc:
            raise GatewayError(_describe(exc), code='NETWORK') from exc
        return RefundStatus(result.get('refund_status_0', 'PROCESSING'), result.get('refund_id_0', ''),
                            int(result.get('refund_fee_0') or result.get('refund_fee') or 0))


def _describe(exc) -> str:
    if isinstance(exc, WeChatPayException):
        return exc.errmsg or exc.return_msg or exc.errcode or 'WeChat Pay error'
    return f'{type(exc).__name__}: {exc}'
