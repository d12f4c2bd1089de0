"""Re-find, from the database, timed work that Redis or a crashed process lost.

The deadline index is fast but forgettable (Redis restart or flush, a scheduler dying between
claim and enqueue, an after-commit action lost to a crash). The database is not: this scan finds
every group past its deadline, every seat past its pay window, every refund not yet submitted or
whose notification is overdue, and every notification not yet delivered, and enqueues the
(idempotent) job for it again.
"""
import datetime as dt

from . import job_catalogue as jobs
from .clock import to_ms
from .deadline_index import item_key
from .models import Campaign, Group, Notification, Refund, Seat
from .nudge_schedule import nudges_due
from .rooms import timers as room_timers
from .seat_ledger import LedgerSeat

BATCH = 1000
ALIVE_KEY = 'redis:alive'  # gone after a Redis restart or flush: time to restore


def sweep(deps, stale_s: int = 60, refund_overdue_s: int = 600) -> dict:
    """Enqueue overdue work. Returns how many of each kind it found."""
    now = deps.now()
    stale = now - dt.timedelta(seconds=stale_s)
    groups = [g.id for g in Group.select(Group.id)
              .where(Group.status == 'forming', Group.deadline_at <= now).limit(BATCH)]
    seats = [s.id for s in Seat.select(Seat.id)
             .where(Seat.status == 'reserved', Seat.reserved_until <= now).limit(BATCH)]
    refunds = [r.order_id for r in Refund.select(Refund.order)
               .where(Refund.status == 'pending', Refund.updated_at <= stale).limit(BATCH)]
    overdue = now - dt.timedelta(seconds=refund_overdue_s)
    checks = [r.order_id for r in Refund.select(Refund.order)
              .where(Refund.status == 'submitted', Refund.updated_at <= overdue).limit(BATCH)]
    notes = [n.id for n in Notification.select(Notification.id)
             .where(Notification.status == 'pending', Notification.created_at <= stale,
                    (Notification.not_before.is_null()) | (Notification.not_before <= now)).limit(BATCH)]
    for job, ids in ((jobs.SETTLE_GROUP, groups), (jobs.RELEASE_SEAT, seats), (jobs.REFUND_ORDER, refunds),
                     (jobs.CHECK_REFUND, checks), (jobs.DELIVER_NOTIFICATION, notes)):
        for item_id in ids:
            deps.enqueue(job.name, item_id)
    return {'groups': len(groups), 'seats': len(seats), 'refunds': len(refunds),
            'refund_checks': len(checks), 'notifications': len(notes)}


def restore_redis(deps) -> dict:
    """Rebuild seat ledgers and the deadline index (deadlines, pay windows, nudges, deferred
    notifications) from the database. Only fills in what Redis does not know; harmless to repeat.
    A handful of queries and pipelined Redis writes, so a restart with 10,000 live groups is quick."""
    live = list(Group.select(Group, Campaign).join(Campaign).where(Group.status.in_(('pending', 'forming'))))
    seats_of: dict[int, list] = {g.id: [] for g in live}
    reserved = []
    for seat in Seat.select(Seat.id, Seat.group, Seat.user, Seat.status, Seat.reserved_until).where(
            Seat.status.in_(('reserved', 'paid')), Seat.group.in_(Group.select(Group.id).where(
                Group.status.in_(('pending', 'forming'))))):
        seats_of[seat.group_id].append(LedgerSeat(seat.user_id, seat.status == 'paid', to_ms(seat.reserved_until)))
        if seat.status == 'reserved':
            reserved.append(seat)
    deps.ledger.restore_many([(g.id, g.size, 'open' if g.status == 'forming' else 'pending',
                               to_ms(g.deadline_at) if g.deadline_at else 0, seats_of[g.id]) for g in live])
    now = deps.now()
    due = {}
    for group in live:
        if group.status == 'forming':
            due[item_key('settle', group.id)] = to_ms(group.deadline_at)
            due.update(nudges_due(group, now))
    due.update({item_key('release', seat.id): to_ms(seat.reserved_until) for seat in reserved})
    deferred = list(Notification.select(Notification.id, Notification.not_before)
                    .where(Notification.status == 'pending', Notification.not_before.is_null(False)))
    due.update({item_key('notify', n.id): to_ms(n.not_before) for n in deferred})
    due.update(room_timers.scheduled_timers(now))  # warm-up live rooms: the reminder, the opening
    deps.deadlines.schedule_many(due)
    deps.redis.set(deps.key_prefix + ALIVE_KEY, to_ms(deps.now()))
    return {'groups': len(live), 'seats': len(reserved), 'deferred_notifications': len(deferred)}


def redis_forgot(deps) -> bool:
    """True when Redis lost its data since the last restore (restart without persistence, flush)."""
    return not deps.redis.exists(deps.key_prefix + ALIVE_KEY)
