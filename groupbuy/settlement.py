"""Timed transitions: a group's deadline and a seat's pay window. Each is an idempotent job."""
import datetime as dt

from . import outcomes, payments, rules
from .after_commit import AfterCommit
from .clock import to_ms
from .db import locked, transaction
from .events import record_event
from .live_events import announce
from .models import Campaign, Course, Group, Order, Seat
from .ports import GatewayError

USERPAYING_GRACE_S = 60  # how long past its window a seat waits for a payer WeChat says is paying


def settle_group(deps, group_id: int) -> str:
    """Decide a group at its deadline: full (or over its auto-complete ratio) → succeeded,
    short → failed and every payer refunded. Returns the outcome; running it twice is harmless:
    'succeeded', 'failed', 'not_due' (rescheduled) or 'noop' (already decided / unknown)."""
    now = deps.now()
    after = AfterCommit()
    with transaction():
        group = locked(Group.select(Group, Campaign, Course).join(Campaign).join(Course)
                       .where(Group.id == group_id), of=Group).first()
        if group is None or group.status != 'forming':
            return 'noop'
        if now < group.deadline_at:
            after.add(deps.deadlines.schedule, 'settle', group.id, to_ms(group.deadline_at))
            outcome = 'not_due'
        else:
            seats = outcomes.live_seats(group.id)
            paid = sum(1 for s in seats if s.status == 'paid')
            outcome, virtual = rules.deadline_outcome(paid, group.size, group.campaign.auto_complete_ratio)
            if outcome == 'succeeded':
                outcomes.succeed_group(deps, group, now, after, virtual=virtual, seats=seats)
            else:
                outcomes.fail_group(deps, group, now, after, seats=seats)
                outcome = 'failed'
    after.run()
    return outcome


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
    after = AfterCommit()
    with transaction():
        group = locked(Group.select().where(Group.id == seat.group_id)).first()
        released = bool(Seat.update(status='released')
                        .where(Seat.id == seat.id, Seat.status == 'reserved').execute())
        if released:
            closed = (Order.update(status='closed', closed_at=now)
                      .where(Order.id == seat.order_id, Order.status == 'created').execute())
            if closed and wechat == 'unknown':
                after.add(deps.enqueue, 'close_payment', seat.order_id)  # WeChat did not answer: close it later
            after.add(deps.ledger.release, group.id, seat.user_id, to_ms(seat.reserved_until))
            if seat.role == 'leader' and group.status == 'pending':
                Group.update(status='cancelled', closed_at=now).where(
                    Group.id == group.id, Group.status == 'pending').execute()
                group.status, group.closed_at = 'cancelled', now
                after.add(deps.ledger.forget, group.id)
                after.add(announce, deps, group, 'group_cancelled')
                record_event('group_cancelled', group=group.id, campaign=group.campaign_id, at=now)
            else:
                after.add(announce, deps, group, 'seat_released')
                record_event('seat_released', user=seat.user_id, group=group.id,
                             campaign=group.campaign_id, at=now)
    after.run()
    return released


def _ask_wechat(deps, seat: Seat, now) -> str:
    """'paid' (the payment is recorded now), 'paying' (the payer is entering their password: look
    again shortly), 'closed' (WeChat will take no payment for it) or 'unknown' (WeChat did not
    answer: release anyway; a payment that still arrives is judged by its time in record_payment)."""
    order = seat.order
    try:
        status = deps.gateway.query_order(order.out_trade_no)
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
