"""The two ends of a group, shared by payment (last seat paid) and settlement (deadline).

Both run inside the caller's transition, with the group row locked, and emit what happened;
groupbuy/subscribers.py says what follows.
"""
import dataclasses
import datetime as dt

from peewee import fn

from . import tiers
from .domain_events import GroupFailed, GroupHeldForReview, GroupSucceeded, RefundsStarted, ReservationsDropped
from .models import Enrollment, Group, Order, Refund, Seat
from .progress import Progress, progress_of_group
from .risk import decisions as risk

PARTIAL_REFUND = 'tier_difference'  # the one refund that leaves its order fulfilled (a tiered group's price drop)


def out_refund_no_for(order: Order, reason: str = '') -> str:
    """Stable per order and kind of refund, so a retried refund call can never refund twice: RF… the order's full
    refund, RT… its tier difference."""
    return ('RT' if reason == PARTIAL_REFUND else 'RF') + order.out_trade_no[2:]


def start_refund(t, order: Order, reason: str, from_statuses=('paid',), campaign_id: int | None = None) -> bool:
    """Move a paid order to refunding and create its refund (once) for what is left of its money (a tier difference
    already went back). The refund job does the call. A free seat (amount 0) has nothing to refund: its order is
    closed. True if this call started a refund."""
    if order.amount_fen == 0:
        Order.update(status='closed', closed_at=t.now).where(Order.id == order.id,
                                                             Order.status.in_(from_statuses)).execute()
        return False
    changed = (Order.update(status='refunding')
               .where(Order.id == order.id, Order.status.in_(from_statuses)).execute())
    if not changed:
        return False
    returned = (Refund.select(fn.COALESCE(fn.SUM(Refund.amount_fen), 0))
                .where(Refund.order == order.id, Refund.reason == PARTIAL_REFUND).scalar() or 0)
    Refund.insert(order=order.id, out_refund_no=out_refund_no_for(order), amount_fen=order.amount_fen - returned,
                  reason=reason, created_at=t.now, updated_at=t.now).on_conflict_ignore().execute()
    t.emit(RefundsStarted([order], reason, campaign_id))
    return True


def live_seats(group_id: int) -> list[Seat]:
    """The group's reserved and paid seats with their orders, in one query (the settlement hot path)."""
    return list(Seat.select(Seat.id, Seat.user, Seat.role, Seat.status, Order.id, Order.status, Order.user,
                            Order.course, Order.amount_fen, Order.discount_fen, Order.coupon_id, Order.out_trade_no,
                            Order.group)
                .join(Order).where(Seat.group == group_id, Seat.status != 'released'))


def release_unpaid_seats(t, group: Group, seats) -> None:
    """A closed group keeps no reservations: release them and close their orders."""
    reserved = [s for s in seats if s.status == 'reserved']
    if not reserved:
        return
    Seat.update(status='released').where(Seat.id.in_([s.id for s in reserved]), Seat.status == 'reserved').execute()
    Order.update(status='closed', closed_at=t.now).where(Order.id.in_([s.order.id for s in reserved]),
                                                         Order.status == 'created').execute()
    t.emit(ReservationsDropped(group, reserved))


def _paid_orders(seats) -> list[Order]:
    return [s.order for s in seats if s.status == 'paid' and s.order.status == 'paid']


def succeed_group(t, group: Group, *, virtual=False, seats=None, progress: Progress | None = None) -> bool:
    """Every paid order fulfilled, every payer enrolled. False if the group was not forming.
    A payer who already owns the course (a second order slipped through: a merge of two accounts,
    two groups of one course ending at once) is refunded instead (`already_enrolled`): one person
    never pays twice for one course. `progress`: the caller's, taken before the group ended."""
    ended = _end(t, group, 'succeeded', seats, progress)
    if ended is None:
        return False
    orders, after_end = ended
    fulfilled = _enroll(orders, t.now)
    doubles = [o for o in orders if o.id not in fulfilled]
    for order in doubles:
        start_refund(t, order, 'already_enrolled', campaign_id=group.campaign_id)
    kept = [o for o in orders if o.id in fulfilled]
    t.emit(GroupSucceeded(group, after_end, kept, doubles, virtual))
    # the tier is reached by the people who bought (a double, refunded whole, does not lower the others' price)
    _refund_tier_differences(t, group, kept, tiers.reached(tiers.parse(group.tiers), len(kept)))
    return True


def _refund_tier_differences(t, group: Group, orders: list[Order], tier) -> None:
    """A tiered group ended: each payer gets back the difference to the tier it reached — one `tier_difference`
    refund per order (a stable RT… number), through the same refund job as any refund; the orders stay fulfilled."""
    owed = [(o, tiers.difference_fen(o.amount_fen, o.discount_fen, tier)) for o in orders]
    owed = [(o, fen) for o, fen in owed if fen > 0]
    if not owed:
        return
    Refund.insert_many([{'order': o.id, 'out_refund_no': out_refund_no_for(o, PARTIAL_REFUND), 'amount_fen': fen,
                         'reason': PARTIAL_REFUND, 'created_at': t.now, 'updated_at': t.now}
                        for o, fen in owed]).on_conflict_ignore().execute()
    t.emit(RefundsStarted([o for o, _ in owed], PARTIAL_REFUND, group.campaign_id))


def _enroll(orders: list[Order], now) -> set[int]:
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


def fail_group(t, group: Group, seats=None) -> bool:
    """Every paid order refunded to where it came from. False if the group was not forming.
    The hot path of a busy deadline minute: a fixed handful of queries whatever the group size."""
    ended = _end(t, group, 'failed', seats, None)
    if ended is None:
        return False
    orders, after_end = ended
    free = [o.id for o in orders if o.amount_fen == 0]  # a free leader's seat: nothing was charged, nothing goes back
    if free:
        Order.update(status='closed', closed_at=t.now).where(Order.id.in_(free), Order.status == 'paid').execute()
    orders = [o for o in orders if o.amount_fen > 0]
    if orders:
        Order.update(status='refunding').where(Order.id.in_([o.id for o in orders]),
                                               Order.status == 'paid').execute()
        Refund.insert_many([{'order': o.id, 'out_refund_no': out_refund_no_for(o), 'amount_fen': o.amount_fen,
                             'reason': 'group_failed', 'created_at': t.now, 'updated_at': t.now}
                            for o in orders]).on_conflict_ignore().execute()
        t.emit(RefundsStarted(orders, 'group_failed', group.campaign_id))
    t.emit(GroupFailed(group, after_end, orders))
    return True


def succeed_or_hold(t, group: Group, *, virtual=False, seats=None, progress: Progress | None = None) -> str:
    """A group about to succeed: risk control may hold it for review first (groupbuy/risk). Returns
    'group_succeeded' or 'group_in_review'."""
    held = risk.review_before_success(group)
    if held is None:
        succeed_group(t, group, virtual=virtual, seats=seats, progress=progress)
        return 'group_succeeded'
    hold_for_review(t, group, held, seats=seats, progress=progress)
    return 'group_in_review'


def hold_for_review(t, group: Group, held, *, seats=None, progress: Progress | None = None) -> bool:
    """forming → reviewing: nobody else joins, reservations go, the money stays paid (no course yet), and an
    operator has until `review_until` to approve or reject (then it is refunded)."""
    review_until = max(t.now, group.deadline_at or t.now) + dt.timedelta(seconds=held.review_s)
    changed = (Group.update(status='reviewing', review_until=review_until)
               .where(Group.id == group.id, Group.status == 'forming').execute())
    if not changed:
        return False
    group.status, group.review_until = 'reviewing', review_until
    release_unpaid_seats(t, group, live_seats(group.id) if seats is None else seats)
    after = dataclasses.replace(progress, status='reviewing', reserved=0) if progress else progress_of_group(group.id)
    t.emit(GroupHeldForReview(group, after, held.reasons))
    return True


def _end(t, group: Group, status: str, seats, progress) -> tuple[list[Order], Progress] | None:
    """Close a forming (or reviewed) group (conditional UPDATE: once), drop its reservations. Its paid orders
    and its progress now (the caller's, moved on; else one query), or None."""
    changed = (Group.update(status=status, closed_at=t.now)
               .where(Group.id == group.id, Group.status.in_(('forming', 'reviewing'))).execute())
    if not changed:
        return None
    group.status, group.closed_at = status, t.now
    seats = live_seats(group.id) if seats is None else seats
    release_unpaid_seats(t, group, seats)
    if progress is None:
        progress = progress_of_group(group.id)
    else:
        progress = dataclasses.replace(progress, status=status, reserved=0)
    return _paid_orders(seats), progress
