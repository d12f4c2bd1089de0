"""Re-find, from the database, timed work that Redis or a crashed process lost.

The deadline index is fast but forgettable (Redis restart, a scheduler dying between claim and
enqueue, an after-commit action lost to a crash). The database is not: this scan finds every
group past its deadline, every seat past its pay window and every refund not yet submitted,
and enqueues the (idempotent) job for it again.
"""
import datetime as dt

from .models import Group, Refund, Seat

BATCH = 1000


def sweep(deps, refund_stale_s: int = 60) -> dict:
    """Enqueue overdue work. Returns how many of each kind it found."""
    now = deps.now()
    groups = [g.id for g in Group.select(Group.id)
              .where(Group.status == 'forming', Group.deadline_at <= now).limit(BATCH)]
    seats = [s.id for s in Seat.select(Seat.id)
             .where(Seat.status == 'reserved', Seat.reserved_until <= now).limit(BATCH)]
    stale = now - dt.timedelta(seconds=refund_stale_s)
    refunds = [r.order_id for r in Refund.select(Refund.order)
               .where(Refund.status == 'pending', Refund.updated_at <= stale).limit(BATCH)]
    for group_id in groups:
        deps.enqueue('settle_group', group_id)
    for seat_id in seats:
        deps.enqueue('release_seat', seat_id)
    for order_id in refunds:
        deps.enqueue('refund_order', order_id)
    return {'groups': len(groups), 'seats': len(seats), 'refunds': len(refunds)}


def restore_redis(deps) -> dict:
    """Rebuild the seat ledger and deadline index of every live group from the database
    (start-up, `flask rebuild-redis`). Only fills in what Redis does not know."""
    from .clock import to_ms
    from .groups import restore_group_ledger
    live = list(Group.select().where(Group.status.in_(('pending', 'forming'))))
    for group in live:
        restore_group_ledger(deps, group)
        if group.status == 'forming':
            deps.deadlines.schedule('settle', group.id, to_ms(group.deadline_at))
    seats = list(Seat.select(Seat.id, Seat.reserved_until).where(Seat.status == 'reserved'))
    for seat in seats:
        deps.deadlines.schedule('release', seat.id, to_ms(seat.reserved_until))
    return {'groups': len(live), 'seats': len(seats)}
