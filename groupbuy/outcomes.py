"""The two ends of a group, shared by payment (last seat paid) and settlement (deadline).

Both run inside the caller's transaction, with the group row locked, and queue their
follow-ups on the caller's AfterCommit.
"""
import datetime as dt

from .after_commit import AfterCommit
from .events import record_event
from .facts import group_facts
from .live_events import announce
from .models import Enrollment, Group, Order, Refund, Seat
from .notifications import notify
from .wording import yuan


def out_refund_no_for(order: Order) -> str:
    """Stable per order, so a retried refund call can never refund twice."""
    return 'RF' + order.out_trade_no[2:]


def paid_seat_count(group_id: int) -> int:
    return Seat.select().where(Seat.group == group_id, Seat.status == 'paid').count()


def start_refund(deps, order: Order, reason: str, now: dt.datetime, after: AfterCommit,
                 from_statuses=('paid',)) -> bool:
    """Move a paid order to refunding and create its refund (once). The refund job does the call.
    True if this call started it."""
    changed = (Order.update(status='refunding')
               .where(Order.id == order.id, Order.status.in_(from_statuses)).execute())
    if not changed:
        return False
    Refund.insert(order=order.id, out_refund_no=out_refund_no_for(order), amount_fen=order.amount_fen,
                  reason=reason, created_at=now, updated_at=now).on_conflict_ignore().execute()
    after.add(deps.enqueue, 'refund_order', order.id)
    return True


def live_seats(group_id: int) -> list[Seat]:
    """The group's reserved and paid seats with their orders, in one query (the settlement hot path)."""
    return list(Seat.select(Seat.id, Seat.user, Seat.role, Seat.status, Order.id, Order.status, Order.user,
                            Order.course, Order.amount_fen, Order.out_trade_no)
                .join(Order).where(Seat.group == group_id, Seat.status != 'released'))


def release_unpaid_seats(deps, group: Group, now: dt.datetime, after: AfterCommit, seats=None) -> None:
    """A closed group keeps no reservations: release them and close their orders."""
    reserved = [s for s in (live_seats(group.id) if seats is None else seats) if s.status == 'reserved']
    if not reserved:
        return
    Seat.update(status='released').where(Seat.id.in_([s.id for s in reserved]), Seat.status == 'reserved').execute()
    Order.update(status='closed', closed_at=now).where(Order.id.in_([s.order.id for s in reserved]),
                                                       Order.status == 'created').execute()
    after.add(deps.enqueue_many, [('close_payment', (s.order.id,)) for s in reserved])
    for seat in reserved:
        after.add(deps.deadlines.cancel, 'release', seat.id)


def _paid_orders(seats) -> list[Order]:
    return [s.order for s in seats if s.status == 'paid' and s.order.status == 'paid']


def succeed_group(deps, group: Group, now: dt.datetime, after: AfterCommit, *, virtual=False, seats=None) -> bool:
    """Every paid order fulfilled, every payer enrolled. False if the group was not forming.
    A payer who already owns the course (a second order slipped through: a merge of two accounts,
    two groups of one course ending at once) is refunded instead (`already_enrolled`): one person
    never pays twice for one course."""
    ended = _end(group, 'succeeded', now, seats)
    if ended is None:
        return False
    seats, orders = ended
    fulfilled = _enroll(orders, now)
    doubles = [o for o in orders if o.id not in fulfilled]
    for order in doubles:
        start_refund(deps, order, 'already_enrolled', now, after)
        record_event('duplicate_purchase_refunded', user=order.user_id, group=group.id, campaign=group.campaign_id,
                     at=now, amount_fen=order.amount_fen, order=order.id)
    facts = group_facts(group, now, paid=sum(1 for s in seats if s.status == 'paid'))
    _wrap_up(deps, group, 'group_succeeded', now, after, seats,
             {o.user_id: facts for o in orders if o.id in fulfilled},
             event={'paid': len(orders), 'virtual': virtual, 'refunded_already_enrolled': len(doubles)})
    return True


def _enroll(orders: list[Order], now: dt.datetime) -> set[int]:
    """Enroll each payer once and fulfil the orders that gave the course; the ids of those orders.
    The unique (user, course) index decides, so two groups of one course succeeding at the same
    moment cannot both enroll one person (PostgreSQL makes the second insert wait, then skip)."""
    if not orders:
        return set()
    Enrollment.insert_many([{'user': o.user_id, 'course': o.course_id, 'order': o.id, 'created_at': now}
                            for o in orders]).on_conflict_ignore().execute()
    ids = [o.id for o in orders]
    fulfilled = {e.order_id for e in Enrollment.select(Enrollment.order).where(Enrollment.order.in_(ids))}
    if fulfilled:
        Order.update(status='fulfilled').where(Order.id.in_(list(fulfilled)), Order.status == 'paid').execute()
    return fulfilled


def fail_group(deps, group: Group, now: dt.datetime, after: AfterCommit, seats=None) -> bool:
    """Every paid order refunded to where it came from. False if the group was not forming.
    The hot path of a busy deadline minute: a fixed handful of queries whatever the group size."""
    ended = _end(group, 'failed', now, seats)
    if ended is None:
        return False
    seats, orders = ended
    if orders:
        Order.update(status='refunding').where(Order.id.in_([o.id for o in orders]),
                                               Order.status == 'paid').execute()
        Refund.insert_many([{'order': o.id, 'out_refund_no': out_refund_no_for(o), 'amount_fen': o.amount_fen,
                             'reason': 'group_failed', 'created_at': now, 'updated_at': now}
                            for o in orders]).on_conflict_ignore().execute()
        after.add(deps.enqueue_many, [('refund_order', (o.id,)) for o in orders])
    facts = group_facts(group, now, paid=len(orders))
    _wrap_up(deps, group, 'group_failed', now, after, seats,
             {o.user_id: dict(facts, amount=yuan(o.amount_fen)) for o in orders}, event={'paid': len(orders)},
             live={'refund': {'amount_fen': [o.amount_fen for o in orders], 'timing': '原路退回，1–3 个工作日到账'}})
    return True


def _end(group: Group, status: str, now: dt.datetime, seats) -> tuple[list[Seat], list[Order]] | None:
    """Close a forming group (conditional UPDATE: once). Its live seats and paid orders, or None."""
    changed = (Group.update(status=status, closed_at=now)
               .where(Group.id == group.id, Group.status == 'forming').execute())
    if not changed:
        return None
    group.status, group.closed_at = status, now  # what the after-commit announce publishes
    seats = live_seats(group.id) if seats is None else seats
    return seats, _paid_orders(seats)


def _wrap_up(deps, group: Group, kind: str, now, after: AfterCommit, seats, recipients: dict, event: dict,
             live: dict | None = None) -> None:
    """What every end of a group does: free held seats, tell the payers, log it, clear Redis, go live."""
    release_unpaid_seats(deps, group, now, after, seats)
    notify(deps, kind, recipients, f'{kind}:{group.id}', after)
    record_event(kind, group=group.id, campaign=group.campaign_id, at=now, size=group.size, **event)
    _close_in_redis(deps, group, after)
    after.add(announce, deps, group, kind, **(live or {}))


def _close_in_redis(deps, group: Group, after: AfterCommit) -> None:
    after.add(deps.ledger.forget, group.id)
    after.add(deps.deadlines.cancel, 'settle', group.id)
