"""Timed transitions: a group's deadline and a seat's pay window. Each is an idempotent job."""
from . import outcomes
from .after_commit import AfterCommit
from .clock import to_ms
from .db import locked, transaction
from .events import record_event
from .live_events import announce
from .models import Campaign, Course, Group, Order, Seat


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
            ratio = group.campaign.auto_complete_ratio
            if paid >= group.size or (ratio is not None and paid / group.size >= ratio):
                outcomes.succeed_group(deps, group, now, after, virtual=paid < group.size, seats=seats)
                outcome = 'succeeded'
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
    True if this call released it."""
    now = deps.now()
    after = AfterCommit()
    with transaction():
        seat = Seat.get_or_none(Seat.id == seat_id)
        if seat is None or seat.status != 'reserved':
            return False
        group = locked(Group.select().where(Group.id == seat.group_id)).first()
        if not force and seat.reserved_until > now:
            after.add(deps.deadlines.schedule, 'release', seat.id, to_ms(seat.reserved_until))
            released = False
        else:
            released = bool(Seat.update(status='released')
                            .where(Seat.id == seat.id, Seat.status == 'reserved').execute())
        if released:
            closed = (Order.update(status='closed', closed_at=now)
                      .where(Order.id == seat.order_id, Order.status == 'created').execute())
            if closed and not force:
                after.add(deps.enqueue, 'close_payment', seat.order_id)
            after.add(deps.ledger.release, group.id, seat.user_id, to_ms(seat.reserved_until))
            if seat.role == 'leader' and group.status == 'pending':
                Group.update(status='cancelled', closed_at=now).where(
                    Group.id == group.id, Group.status == 'pending').execute()
                after.add(deps.ledger.forget, group.id)
                after.add(announce, deps, group.id, 'group_cancelled')
                record_event('group_cancelled', group=group.id, campaign=group.campaign_id, at=now)
            else:
                after.add(announce, deps, group.id, 'seat_released')
                record_event('seat_released', user=seat.user_id, group=group.id,
                             campaign=group.campaign_id, at=now)
    after.run()
    return released
