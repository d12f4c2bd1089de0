"""Money going back: the refund call (stable out_refund_no) and WeChat's refund notification."""
from dataclasses import dataclass

from peewee import fn

from . import errors
from .domain_events import RefundNeedsAttention, RefundRetried, RefundSucceeded
from .models import Enrollment, Group, Order, Refund
from .outcomes import PARTIAL_REFUND, start_refund
from .payments import close_at_wechat, record_wechat_payment
from .ports import GatewayError
from .transition import transition

ATTENTION_STATUSES = ('pending', 'submitted', 'succeeded', 'failed')


class RefundFailed(Exception):
    """The refund call failed and should be retried (the job runner backs off)."""


@dataclass(frozen=True)
class RefundNotice:
    """A decrypted refund notification (or refundquery's answer). `out_trade_no` (from req_info) and `appid` (the
    notification's, outside req_info) name the order it is for: '' when the answer came from our own query."""
    out_refund_no: str
    refund_status: str  # SUCCESS | CHANGE | REFUNDCLOSE
    refund_id: str
    amount_fen: int
    out_trade_no: str = ''
    appid: str = ''


def refund_order(deps, order_id: int) -> str:
    """Ask WeChat Pay to return an order's money: each of its pending refunds (its full refund; a tiered group's
    tier difference). Safe to repeat: an out_refund_no never changes, so WeChat refunds each at most once.
    Returns 'submitted' or 'noop'; raises RefundFailed to retry."""
    outcome = 'noop'  # none pending: submitted, done, or failed (a failed refund waits for an operator's retry)
    for refund in Refund.select().where(Refund.order == order_id, Refund.status == 'pending').order_by(Refund.id):
        outcome = _submit(deps, Order.get_by_id(order_id), refund)
    return outcome


def _submit(deps, order: Order, refund: Refund) -> str:
    now = deps.now()
    try:
        accepted = deps.gateway.refund(out_trade_no=order.out_trade_no, out_refund_no=refund.out_refund_no,
                                       total_fen=order.amount_fen, refund_fen=refund.amount_fen, appid=order.pay_appid)
    except GatewayError as exc:
        attempts = refund.attempts + 1
        status = 'failed' if attempts >= deps.refund_max_attempts or not exc.retryable else 'pending'
        trouble = f'{exc.code}: {exc}'[:1000]
        with transition(deps, now) as t:
            changed = Refund.update(attempts=attempts, last_error=trouble, status=status, updated_at=now).where(
                Refund.id == refund.id, Refund.status == 'pending').execute()
            if changed and status == 'failed':
                t.emit(RefundNeedsAttention(refund, trouble))
        raise RefundFailed(str(exc)) from exc
    Refund.update(status='submitted', refund_id=accepted.refund_id, attempts=refund.attempts + 1,
                  updated_at=now).where(Refund.id == refund.id, Refund.status == 'pending').execute()
    return 'submitted'


# WeChat's word on a refund that went wrong, as operators read it in the attention list.
REFUND_TROUBLE = {
    'CHANGE': 'CHANGE (退款异常): WeChat could not return the money to the payer (card frozen or cancelled); '
              'refund by hand on the merchant platform',
    'REFUNDCLOSE': 'REFUNDCLOSE (退款关闭): WeChat closed the refund and returned nothing; check, then retry',
    'NOTFOUND': 'NOTFOUND (REFUNDNOTEXIST): WeChat knows no refund with this out_refund_no; check, then retry',
}


def record_refund_notice(deps, notice: RefundNotice) -> str:
    """Finish a refund when WeChat says the money is back; when WeChat says it went wrong (CHANGE,
    REFUNDCLOSE), put it in the operators' attention list — also if our own call never heard back
    (still pending). Idempotent. Raises NotFound, PaymentMismatch (another amount, or a notice naming another order
    or another appid than the refund's order: req_info carries no appid and both our appids share the key that
    encrypts it, so only this pairing ties a notice to its order). Returns 'refunded', 'refund_failed' or
    'duplicate'."""
    refund = (Refund.select(Refund, Order.id, Order.out_trade_no, Order.pay_appid).join(Order)
              .where(Refund.out_refund_no == notice.out_refund_no).first())
    if refund is None:
        raise errors.NotFound('no refund with that out_refund_no')
    if notice.amount_fen != refund.amount_fen:
        raise errors.PaymentMismatch(f'refunded {notice.amount_fen} fen, expected {refund.amount_fen}')
    if notice.out_trade_no and notice.out_trade_no != refund.order.out_trade_no:
        raise errors.PaymentMismatch('the refund notice names another order than its refund\'s')
    if notice.appid and refund.order.pay_appid and notice.appid != refund.order.pay_appid:
        raise errors.PaymentMismatch(f'the refund notice came under appid {notice.appid[:32]}, '
                                     f'the order was paid under {refund.order.pay_appid}')
    with transition(deps) as t:
        if notice.refund_status == 'SUCCESS':
            changed = (Refund.update(status='succeeded', refund_id=notice.refund_id, succeeded_at=t.now,
                                     updated_at=t.now)
                       .where(Refund.id == refund.id, Refund.status != 'succeeded').execute())
            if not changed:
                return 'duplicate'
            if refund.reason != PARTIAL_REFUND:  # a tier difference leaves its order fulfilled
                Order.update(status='refunded').where(Order.id == refund.order_id,
                                                      Order.status == 'refunding').execute()
            t.emit(RefundSucceeded(refund, Order.get_by_id(refund.order_id).user_id))
            return 'refunded'
        trouble = REFUND_TROUBLE.get(notice.refund_status, f'{notice.refund_status}: WeChat refund did not succeed')
        changed = (Refund.update(status='failed', last_error=trouble, refund_id=notice.refund_id or refund.refund_id,
                                 updated_at=t.now)
                   .where(Refund.id == refund.id, Refund.status.in_(('pending', 'submitted'))).execute())
        if not changed:
            return 'duplicate'
        t.emit(RefundNeedsAttention(refund, trouble))
        return 'refund_failed'


def close_payment(deps, order_id: int) -> str:
    """Close an unpaid order at WeChat so the payer cannot pay it after the seat is gone (the seat's
    release could not reach WeChat). WeChat answering ORDERPAID means the payer was quicker: the
    payment is recorded like its notice (seated if it was in time and there is room, else refunded)."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None or order.status != 'closed':
        return 'noop'
    try:
        status = close_at_wechat(deps, order)
    except GatewayError:
        return 'unknown'  # best effort: a payment that slips through anyway is judged by record_payment
    if status is None:
        return 'closed'
    return record_wechat_payment(deps, order, status) if status.paid else 'unknown'


def list_refunds(status: str | None = None, limit: int = 200) -> list[Refund]:
    """Refunds for operators, newest first; status 'failed' is the needs-attention list."""
    if status is not None and status not in ATTENTION_STATUSES:
        raise errors.InvalidInput(f'status must be one of {", ".join(ATTENTION_STATUSES)}', field='status')
    query = Refund.select(Refund, Order).join(Order)
    if status:
        query = query.where(Refund.status == status)
    return list(query.order_by(Refund.id.desc()).limit(limit))


def count_needing_attention() -> int:
    """How many refunds wait for an operator (failed for good): the number operations watch (GET /metrics)."""
    return Refund.select().where(Refund.status == 'failed').count()


def get_refund(refund_id: int) -> Refund:
    refund = Refund.select(Refund, Order).join(Order).where(Refund.id == refund_id).first()
    if refund is None:
        raise errors.NotFound(f'refund {refund_id} not found')
    return refund


def retry_refund(deps, refund_id: int) -> Refund:
    """An operator fixed the cause (topped up the balance, renewed the certificate): try again.
    A refund WeChat had accepted is looked up first: REFUNDCLOSE (closed, nothing returned) is sent
    again under the next refund number, since WeChat answers the old one with the closed refund
    forever; CHANGE (the payer's card is gone) cannot be retried — it is refunded by hand on the
    merchant platform; SUCCESS is recorded. Raises NotFound, InvalidTransition."""
    refund = Refund.get_or_none(Refund.id == refund_id)
    if refund is None:
        raise errors.NotFound(f'refund {refund_id} not found')
    if refund.status != 'failed':
        raise errors.InvalidTransition(f'refund {refund_id} is {refund.status}; only a failed refund is retried')
    changes = {'status': 'pending', 'updated_at': deps.now()}
    answer = _wechat_side(deps, refund)
    if answer is not None and answer.status == 'SUCCESS':
        record_refund_notice(deps, RefundNotice(refund.out_refund_no, 'SUCCESS', answer.refund_id, refund.amount_fen))
        return Refund.get_by_id(refund.id)
    if answer is not None and answer.status == 'CHANGE':
        raise errors.InvalidTransition('WeChat could not return this money to the payer (CHANGE): refund it by hand '
                                       'on the merchant platform (pay.weixin.qq.com → 交易中心)')
    if answer is not None and answer.status == 'REFUNDCLOSE':
        changes.update(out_refund_no=next_refund_no(refund.out_refund_no), refund_id=None)
    with transition(deps, changes['updated_at']) as t:
        changed = Refund.update(changes).where(Refund.id == refund.id, Refund.status == 'failed').execute()
        if not changed:
            raise errors.InvalidTransition(f'refund {refund_id} changed meanwhile; look again')
        t.emit(RefundRetried(refund, changes.get('out_refund_no', refund.out_refund_no)))
    return Refund.get_by_id(refund.id)


def refund_after_sale(deps, order_id: int) -> Refund:
    """售后退款: an operator refunds a fulfilled order (the buyer asked within the platform's return window). The
    course access it gave goes, what is left of its money goes back (less a tier difference already returned), and a
    referral reward it earned is revoked. A free seat (nothing charged) is only closed. Raises NotFound,
    InvalidTransition (not fulfilled)."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        raise errors.NotFound(f'order {order_id} not found')
    with transition(deps) as t:
        still = Order.select(Order.status).where(Order.id == order.id, Order.status == 'fulfilled').exists()
        if not still:  # read inside the transaction: the same answer for a free seat and a paid one
            raise errors.InvalidTransition(f'order {order_id} is {Order.get_by_id(order.id).status}; '
                                           'only a fulfilled order is refunded')
        Enrollment.delete().where(Enrollment.order == order.id).execute()
        start_refund(t, order, 'after_sale', from_statuses=('fulfilled',),
                     campaign_id=order.group.campaign_id if order.group_id else None)
    return Refund.get_or_none(Refund.order == order.id, Refund.reason == 'after_sale')


def tier_differences_of(campaign_id: int) -> dict:
    """A campaign's tier-difference refunds for the console: how many by status and the fen returned so far."""
    rows = (Refund.select(Refund.status, fn.COUNT(Refund.id), fn.COALESCE(fn.SUM(Refund.amount_fen), 0))
            .join(Order).join(Group, on=(Order.group == Group.id))
            .where(Group.campaign == campaign_id, Refund.reason == PARTIAL_REFUND).group_by(Refund.status).tuples())
    by_status = {status: (int(n), int(fen)) for status, n, fen in rows}
    return {'count': sum(n for n, _ in by_status.values()),
            'returned_fen': by_status.get('succeeded', (0, 0))[1], 'by_status': {k: n for k, (n, _) in by_status.items()}}


def next_refund_no(out_refund_no: str) -> str:
    """RFxxx → RFxxx-2 → RFxxx-3: stable per attempt, so a retried call still refunds at most once."""
    base, _, n = out_refund_no.partition('-')
    return f'{base}-{int(n) + 1 if n.isdigit() else 2}'


def _wechat_side(deps, refund: Refund):
    """WeChat's word on a refund it had accepted, or None (never accepted, or no answer)."""
    if not refund.refund_id:
        return None
    try:
        return deps.gateway.query_refund(refund.out_refund_no, Order.get_by_id(refund.order_id).pay_appid)
    except GatewayError:
        return None


def check_refund(deps, order_id: int) -> str:
    """Ask WeChat how an order's submitted refunds are doing when their notification is overdue (lost
    notifications must not leave money in limbo). Returns the outcome of applying the (last) answer."""
    outcome = 'noop'
    for refund in Refund.select(Refund, Order.pay_appid).join(Order).where(
            Refund.order == order_id, Refund.status == 'submitted').order_by(Refund.id):
        outcome = _check(deps, refund)
    return outcome


def _check(deps, refund: Refund) -> str:
    try:
        answer = deps.gateway.query_refund(refund.out_refund_no, refund.order.pay_appid)
    except GatewayError:
        return 'unknown'
    if answer.status == 'PROCESSING':
        Refund.update(updated_at=deps.now()).where(Refund.id == refund.id).execute()
        return 'processing'
    return record_refund_notice(deps, RefundNotice(refund.out_refund_no, answer.status,
                                                   answer.refund_id, answer.amount_fen or refund.amount_fen))
