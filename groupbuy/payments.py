"""A payment reported by WeChat Pay: seat it, or refund it if its seat or group is gone.

A payment is judged by when the payer paid (WeChat's `time_end`), not by when its notice arrives:
a payment inside its pay window keeps its seat — even if the notice comes late and the seat was
released meanwhile — as long as the group is still live and has room for it.
"""
import datetime as dt
from dataclasses import dataclass

from peewee import Case, fn

from . import catalog, errors, outcomes, rewards, rules
from .db import locked
from .domain_events import GroupFormed, MemberJoined, SeatPaid, SeatReleased
from .live_events import member
from .models import Campaign, Course, Group, Order, Seat, User
from .progress import progress_of_group
from .risk import decisions as risk
from .transition import transition


@dataclass(frozen=True)
class PaymentNotice:
    """A verified payment notification (the signature was checked by the adapter)."""
    out_trade_no: str
    transaction_id: str
    amount_fen: int
    paid_at: dt.datetime | None = None  # WeChat's time_end (naive UTC); None: unknown, judged as now
    payer: str = ''  # the openid that paid (risk control keeps it: groupbuy/risk/decisions.keep_payment)


def record_payment(deps, notice: PaymentNotice) -> str:
    """Apply a payment exactly once, whatever the order of arrival or how often it comes.

    Returns 'seated', 'group_formed' (the leader paid), 'group_succeeded' (last seat),
    'refunding' (the seat or group was no longer live: the money goes back) or 'duplicate'.
    Raises NotFound (unknown order) and PaymentMismatch (amount differs) without changing state.
    """
    order = Order.get_or_none(Order.out_trade_no == notice.out_trade_no)
    if order is None:
        raise errors.NotFound('no order with that out_trade_no')
    if notice.amount_fen != order.amount_fen:
        raise errors.PaymentMismatch(f'paid {notice.amount_fen} fen for an order of {order.amount_fen} fen')
    if order.transaction_id and order.transaction_id != notice.transaction_id:
        raise errors.PaymentMismatch('a different transaction already paid this order')
    with transition(deps) as t:
        group = locked(Group.select(Group, Campaign, Course).join(Campaign).join(Course)
                       .where(Group.id == order.group_id), of=Group).first()
        changed = (Order.update(status='paid', paid_at=t.now, transaction_id=notice.transaction_id)
                   .where(Order.id == order.id, Order.status.in_(('created', 'closed'))).execute())
        if not changed:
            return 'duplicate'
        order.status, order.paid_at, order.transaction_id = 'paid', t.now, notice.transaction_id
        seat = Seat.get(Seat.order == order.id)
        reason = 'late_payment'
        if _seat_is_live(seat, group, min(notice.paid_at or t.now, t.now), t.now):
            if rewards.use(t.now, order):
                return seat_paid(t, seat, group, order, notice.payer)
            reason = 'coupon_gone'  # its order was closed and its coupon went to another checkout meanwhile
        if seat.status == 'reserved':  # paid too late for a seat it still held: the seat goes too
            Seat.update(status='released').where(Seat.id == seat.id).execute()
            t.emit(SeatReleased(group, seat, close_later=False))
        outcomes.start_refund(t, order, reason, campaign_id=group.campaign_id)
        return 'refunding'


def close_at_wechat(deps, order: Order):
    """closeorder, so the payer cannot pay a seat that is gone. None when WeChat closed it; WeChat's word on
    the payment (orderquery) when it answered ORDERPAID: the payer was quicker. Raises GatewayError."""
    if deps.gateway.close_order(order.out_trade_no, order.pay_appid) != 'paid':
        return None
    return deps.gateway.query_order(order.out_trade_no, order.pay_appid)


def record_wechat_payment(deps, order: Order, status) -> str:
    """A payment WeChat reported when asked (orderquery), applied like its notification would be."""
    return record_payment(deps, PaymentNotice(out_trade_no=order.out_trade_no, transaction_id=status.transaction_id,
                                              amount_fen=status.amount_fen or order.amount_fen,
                                              paid_at=status.paid_at))


def _seat_is_live(seat: Seat, group: Group, paid_at: dt.datetime, now: dt.datetime) -> bool:
    """The facts `rules.payment_keeps_seat` decides on, in one query over the group's other seats."""
    others = (Seat.group == group.id) & (Seat.id != seat.id)
    paid, holding, mine = (Seat.select(_count_if(Seat.status == 'paid'),
                                       _count_if((Seat.status == 'reserved') & (Seat.reserved_until > now)),
                                       _count_if((Seat.user == seat.user_id) & (Seat.status != 'released')))
                           .where(others).tuples().first())
    return rules.payment_keeps_seat(rules.SeatFacts(
        role=seat.role, seat_status=seat.status, reserved_until=seat.reserved_until, group_status=group.status,
        deadline_at=group.deadline_at, size=group.size, paid_by_others=int(paid), holding_by_others=int(holding),
        holds_another_seat=bool(mine)), paid_at)


def _count_if(condition):
    return fn.COALESCE(fn.SUM(Case(None, [(condition, 1)], 0)), 0)


def seat_paid(t, seat, group, order, payer: str = '') -> str:
    """The seat is paid (or, a free leader's, taken without payment); the leader's seat opens the group, the last
    seat succeeds it. One progress snapshot, taken after the writes, goes with every event."""
    Seat.update(status='paid').where(Seat.id == seat.id).execute()
    if payer:
        risk.keep_payment(t.now, seat.user_id, group.id, group.campaign_id, payer)
    # a free leader's seat counts too: a "new user" is someone who never took a course-buying seat, paid or free
    User.update(first_paid_at=t.now).where(User.id == seat.user_id, User.first_paid_at.is_null()).execute()
    if seat.role == 'leader':
        deadline = t.now + dt.timedelta(seconds=group.duration_s)
        Group.update(status='forming', deadline_at=deadline).where(Group.id == group.id).execute()
        group.status, group.deadline_at = 'forming', deadline
    progress = progress_of_group(group.id)
    joined = member(User.get_by_id(seat.user_id), seat.role,
                    order.course_id if catalog.is_cross_course(group.campaign) else None)
    t.emit(SeatPaid(group, seat, order, progress))
    t.emit((GroupFormed if seat.role == 'leader' else MemberJoined)(group, seat, joined, progress))
    if progress.paid >= group.size:
        return outcomes.succeed_or_hold(t, group, progress=progress)
    return 'group_formed' if seat.role == 'leader' else 'seated'
