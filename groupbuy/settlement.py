"""Timed transitions: a group's deadline and a seat's pay window. Each is an idempotent job."""
import datetime as dt
import logging

from . import outcomes, payments, rules, tiers
from .clock import to_ms
from .db import locked
from .domain_events import GroupCancelled, SeatReleased
from .models import Campaign, Course, Group, Order, Seat
from .progress import progress_of_group
from .ports import GatewayError
from .transition import transition

log = logging.getLogger(__name__)
USERPAYING_GRACE_S = 60  # how long past its window a seat waits for a payer WeChat says is paying


def settle_group(deps, group_id: int) -> str:
    """Decide a group at its deadline: full (or over its auto-complete ratio) → succeeded,
    short → failed and every payer refunded. Returns the outcome; running it twice is harmless:
    'succeeded', 'in_review' (risk control holds it for an operator), 'failed', 'not_due' (rescheduled) or 'noop'
    (already decided / unknown). A group in review whose `review_until` passed undecided is refunded here."""
    with transition(deps) as t:
        group = locked(Group.select(Group, Campaign, Course).join(Campaign).join(Course)
                       .where(Group.id == group_id), of=Group).first()
        if group is None or group.status not in ('forming', 'reviewing'):
            return 'noop'
        if group.status == 'reviewing':
            if t.now >= group.review_until:  # nobody decided in time: the money goes back (the safe default)
                outcomes.fail_group(t, group)
                return 'failed'
            due_at = group.review_until
        elif t.now >= group.deadline_at:
            return _decide(t, group)
        else:
            due_at = group.deadline_at
    try:  # woken early: sleep again until it is due (if Redis is away, the sweeper finds it when overdue)
        deps.deadlines.schedule('settle', group_id, to_ms(due_at))
    except Exception:  # noqa: BLE001 — Redis away; the database still holds the deadline
        log.exception('could not reschedule the settlement of group %s; the sweeper will find it', group_id)
    return 'not_due'


def _decide(t, group) -> str:
    seats = outcomes.live_seats(group.id)
    paid = sum(1 for s in seats if s.status == 'paid')
    outcome, virtual = rules.deadline_outcome(paid, tiers.success_size(group.size, tiers.parse(group.tiers)),
                                              group.campaign.auto_complete_ratio)
    if outcome == 'succeeded':
        return {'group_succeeded': 'succeeded', 'group_in_review': 'in_review'}[
            outcomes.succeed_or_hold(t, group, virtual=virtual, seats=seats)]
    outcomes.fail_group(t, group, seats=seats)
    return 'failed'


def settle_groups(deps, group_ids: list[int]) -> dict[int, str]:
    """Settle a batch (the scheduler hands out a busy second's deadlines together, saving a job's
    overhead per group); each group still in its own transaction."""
    return {group_id: settle_group(deps, group_id) for group_id in group_ids}


def release_seat(deps, seat_id: int, force: bool = False) -> bool:
    """Give an unpaid seat back to its group when its pay window is over (or at once, `force`,
    when the payment could not even start). A leader's unpaid seat cancels the pending group.
    Before releasing, WeChat is asked (orderquery, then closeorder): a payment made in time whose
    notice is still on its way keeps the seat. True if this call released it."""
    now = deps.now()
    seat = Seat.select(Seat, Order).join(Order).where(Seat.id == seat_id).first()
    if seat is None or seat.status != 'reserved':
        return False
    if not force and seat.reserved_until > now:
        deps.deadlines.schedule('release', seat.id, to_ms(seat.reserved_until))
        return False
    wechat = 'not_asked' if force else _ask_wechat(deps, seat, now)
    if wechat in ('paid', 'paying'):
        return False
    with transition(deps, now) as t:
        group = locked(Group.select().where(Group.id == seat.group_id)).first()
        released = bool(Seat.update(status='released')
                        .where(Seat.id == seat.id, Seat.status == 'reserved').execute())
        if not released:
            return False
        closed = (Order.update(status='closed', closed_at=now)
                  .where(Order.id == seat.order_id, Order.status == 'created').execute())
        close_later = bool(closed) and wechat == 'unknown'  # WeChat did not answer: close it later
        if seat.role == 'leader' and group.status == 'pending':
            Group.update(status='cancelled', closed_at=now).where(
                Group.id == group.id, Group.status == 'pending').execute()
            t.emit(GroupCancelled(group, seat, progress_of_group(group.id), close_later))
        else:
            t.emit(SeatReleased(group, seat, close_later))
    return True


def _ask_wechat(deps, seat: Seat, now) -> str:
    """'paid' (the payment is recorded now), 'paying' (the payer is entering their password: look
    again shortly), 'closed' (WeChat will take no payment for it) or 'unknown' (WeChat did not
    answer: release anyway; a payment that still arrives is judged by its time in record_payment)."""
    order = seat.order
    try:
        status = deps.gateway.query_order(order.out_trade_no, order.pay_appid)
        if status.trade_state == 'USERPAYING' and now < seat.reserved_until + dt.timedelta(seconds=USERPAYING_GRACE_S):
            deps.deadlines.schedule('release', seat.id, to_ms(now + dt.timedelta(seconds=5)))
            return 'paying'
        if not status.paid and status.trade_state not in ('CLOSED', 'REVOKED', 'NOTFOUND'):
            status = payments.close_at_wechat(deps, order) or status
    except GatewayError:
        return 'unknown'
    if not status.paid:
        return 'closed'
    payments.record_wechat_payment(deps, order, status)
    return 'paid'
