"""The two ends of a group, shared by payment (last seat paid) and settlement (deadline).

Both run inside the caller's transaction, with the group row locked, and queue their
follow-ups on the caller's AfterCommit.
"""
import datetime as dt

from .after_commit import AfterCommit
from .events import record_event
from .facts import group_facts, yuan
from .models import Enrollment, Group, Order, Refund, Seat
from .notifications import notify


def out_refund_no_for(order: Order) -> str:
    """Stable per order, so a retried refund call can never refund twice."""
    return 'RF' + order.out_trade_no[2:]


def paid_seat_count(group_id: int) -> int:
    return Seat.select().where(Seat.group == group_id, Seat.status == 'paid').count()


def start_refund(deps, order: Order, reason: str, now: dt.datetime, after: AfterCommit) -> None:
    """Move a paid order to refunding and create its refund (once). The refund job does the call."""
    changed = (Order.update(status='refunding')
               .where(Order.id == order.id, Order.status == 'paid').execute())
    if not changed:
        return
    Refund.insert(order=order.id, out_refund_no=out_refund_no_for(order), amount_fen=order.amount_fen,
                  reason=reason, created_at=now, updated_at=now).on_conflict_ignore().execute()
    after.add(deps.enqueue, 'refund_order', order.id)


def release_unpaid_seats(deps, group: Group, now: dt.datetime, after: AfterCommit) -> None:
    """A closed group keeps no reservations: release them and close their orders."""
    seats = list(Seat.select(Seat, Order).join(Order)
                 .where(Seat.group == group.id, Seat.status == 'reserved'))
    for seat in seats:
        Seat.update(status='released').where(Seat.id == seat.id, Seat.status == 'reserved').execute()
        closed = (Order.update(status='closed', closed_at=now)
                  .where(Order.id == seat.order.id, Order.status == 'created').execute())
        if closed:
            after.add(deps.enqueue, 'close_payment', seat.order.id)
        after.add(deps.deadlines.cancel, 'release', seat.id)


def succeed_group(deps, group: Group, now: dt.datetime, after: AfterCommit, *, virtual=False) -> bool:
    """Every paid order fulfilled, every payer enrolled. False if the group was not forming."""
    changed = (Group.update(status='succeeded', closed_at=now)
               .where(Group.id == group.id, Group.status == 'forming').execute())
    if not changed:
        return False
    orders = list(Order.select().join(Seat, on=(Seat.order == Order.id))
                  .where(Seat.group == group.id, Seat.status == 'paid', Order.status == 'paid'))
    for order in orders:
        Order.update(status='fulfilled').where(Order.id == order.id, Order.status == 'paid').execute()
        Enrollment.insert(user=order.user_id, course=order.course_id, order=order.id,
                          created_at=now).on_conflict_ignore().execute()
    release_unpaid_seats(deps, group, now, after)
    facts = group_facts(group, now)
    notify(deps, 'group_succeeded', {o.user_id: facts for o in orders}, f'group_succeeded:{group.id}', after)
    record_event('group_succeeded', group=group.id, campaign=group.campaign_id, at=now,
                 paid=len(orders), size=group.size, virtual=virtual)
    _close_in_redis(deps, group, after)
    return True


def fail_group(deps, group: Group, now: dt.datetime, after: AfterCommit) -> bool:
    """Every paid order refunded to where it came from. False if the group was not forming."""
    changed = (Group.update(status='failed', closed_at=now)
               .where(Group.id == group.id, Group.status == 'forming').execute())
    if not changed:
        return False
    orders = list(Order.select().join(Seat, on=(Seat.order == Order.id))
                  .where(Seat.group == group.id, Order.status == 'paid'))
    for order in orders:
        start_refund(deps, order, 'group_failed', now, after)
    release_unpaid_seats(deps, group, now, after)
    facts = group_facts(group, now)
    notify(deps, 'group_failed', {o.user_id: dict(facts, amount=yuan(o.amount_fen)) for o in orders},
           f'group_failed:{group.id}', after)
    record_event('group_failed', group=group.id, campaign=group.campaign_id, at=now,
                 paid=len(orders), size=group.size)
    _close_in_redis(deps, group, after)
    return True


def _close_in_redis(deps, group: Group, after: AfterCommit) -> None:
    after.add(deps.ledger.forget, group.id)
    after.add(deps.deadlines.cancel, 'settle', group.id)
