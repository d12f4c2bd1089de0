"""What the domain needs from the outside world, as small interfaces. Implementations live at the
edge (`gateways/wechat_pay.py` speaks to WeChat Pay through wechatpy); tests may pass others."""
from dataclasses import dataclass
from typing import Callable, Protocol


class GatewayError(Exception):
    """The payment provider refused or could not be reached. `retryable` says whether to try again."""

    def __init__(self, message: str, code: str = '', retryable: bool = True):
        super().__init__(message)
        self.code = code
        self.retryable = retryable


# The doors a person pays through, each its own appid at WeChat (one merchant with both appids bound): the
# mini-program (wx.requestPayment, the user's `openid`) and the official account (a page in WeChat's browser:
# getBrandWCPayRequest, the user's `oa_openid` from H5 OAuth).
MINIAPP, OFFICIAL_ACCOUNT = 'miniapp', 'official_account'
PAY_DOORS = (MINIAPP, OFFICIAL_ACCOUNT)


@dataclass(frozen=True)
class Prepay:
    prepay_id: str
    pay_params: dict
    appid: str | None = None  # the appid the order was made for: every later call on the order must carry it


@dataclass(frozen=True)
class RefundAccepted:
    refund_id: str


@dataclass(frozen=True)
class OrderStatus:
    """WeChat's word on one order (orderquery). `trade_state`: SUCCESS | REFUND | NOTPAY | CLOSED |
    REVOKED | USERPAYING | PAYERROR, or NOTFOUND (ORDERNOTEXIST). `paid_at` (naive UTC) is WeChat's
    `time_end`: it decides whether a payment was inside its pay window, whenever its notice arrives."""
    trade_state: str
    transaction_id: str = ''
    amount_fen: int = 0
    paid_at: object = None  # datetime.datetime | None

    @property
    def paid(self) -> bool:
        return self.trade_state in ('SUCCESS', 'REFUND')


class PaymentGateway(Protocol):
    """`door` (PAY_DOORS) picks the appid an order is made for; `appid` is the one it was made for (`Prepay.appid`,
    kept on the order): WeChat answers for an order only under its own appid. None: the mini-program's."""

    def create_prepay(self, *, out_trade_no: str, amount_fen: int, description: str, openid: str,
                      expires_at, client_ip: str, door: str = MINIAPP) -> Prepay: ...

    def query_order(self, out_trade_no: str, appid: str | None = None) -> OrderStatus: ...

    def close_order(self, out_trade_no: str, appid: str | None = None) -> str:
        """'closed' — or 'paid' when WeChat answers ORDERPAID (the payer was quicker: not closed)."""

    def refund(self, *, out_trade_no: str, out_refund_no: str, total_fen: int,
               refund_fen: int, appid: str | None = None) -> RefundAccepted: ...

    def query_refund(self, out_refund_no: str, appid: str | None = None) -> 'RefundStatus': ...


# enqueue(job_name, *args): run a follow-up job (e.g. 'refund_order', 42) after the current commit.
Enqueue = Callable[..., None]


@dataclass(frozen=True)
class RefundStatus:
    status: str  # SUCCESS | PROCESSING | CHANGE | REFUNDCLOSE | NOTFOUND
    refund_id: str = ''
    amount_fen: int = 0


class MessengerError(Exception):
    """A channel could not deliver. `refused` means this channel will not reach the user
    (no consent, not a follower): try the next one; otherwise the send may be retried."""

    def __init__(self, message: str, code: str = '', refused: bool = False):
        super().__init__(message)
        self.code = code
        self.refused = refused


class Messenger(Protocol):
    """Push channels to a user, in the order the domain tries them."""

    def subscribe_template(self, kind: str) -> str | None: ...

    def send_subscribe(self, openid: str, kind: str, params: dict) -> None: ...

    def send_oa_template(self, oa_openid: str, kind: str, params: dict) -> None: ...

    def send_sms(self, phone: str, kind: str, params: dict) -> None: ...
