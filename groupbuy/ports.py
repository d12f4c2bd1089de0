"""What the domain needs from the outside world, as small interfaces. Implementations live at the
edge (`config/wechat_gateway.py` speaks to WeChat through wechatpy); tests may pass others."""
from dataclasses import dataclass
from typing import Callable, Protocol


class GatewayError(Exception):
    """The payment provider refused or could not be reached. `retryable` says whether to try again."""

    def __init__(self, message: str, code: str = '', retryable: bool = True):
        super().__init__(message)
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class Prepay:
    prepay_id: str
    pay_params: dict


@dataclass(frozen=True)
class RefundAccepted:
    refund_id: str


class PaymentGateway(Protocol):
    def create_prepay(self, *, out_trade_no: str, amount_fen: int, description: str, openid: str,
                      expires_at, client_ip: str) -> Prepay: ...

    def close_order(self, out_trade_no: str) -> None: ...

    def refund(self, *, out_trade_no: str, out_refund_no: str, total_fen: int,
               refund_fen: int) -> RefundAccepted: ...


# enqueue(job_name, *args): run a follow-up job (e.g. 'refund_order', 42) after the current commit.
Enqueue = Callable[..., None]
