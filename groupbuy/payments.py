"""A payment reported by WeChat Pay: seat it, or refund it if its seat or group is gone.

A payment is judged by when the payer paid (WeChat's `time_end`), not by when its notice arrives:
a payment inside its pay window keeps its seat — even if the notice comes late and the seat was
released meanwhile — as long as the group is still live and has room for it.
"""
import datetime as dt
from dataclasses import dataclass

from peewee import Case, fn

from . import errors, outcomes, rules
from .after_commit import AfterCommit
from .clock import to_ms
from .db import locked, transaction
from .events import record_event
from .facts import group_facts
from .live_events import announce, member
from .models import Group, Order, Seat, User
from .notifications import notify
from .nudges import schedule_nudges


@dataclass(frozen=True)
class PaymentNotice:
    """A verified payment notification (the signature was checked by the adapter)."""
    out_trade_no: str
    transaction_id: str
    amount_fen: int
    paid_at: dt.datetime | None = None  # WeChat's time_end (naive UTC); None: unknown, judged as now


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
    now = deps.now()
    after = AfterCommit()
    with transaction():
        group = locked(Group.select().where(Group.id == order.group_id)).first()
        changed = (Order.update(status='paid', paid_at=now, transaction_id=notice.transaction_id)
                   .where(Order.id == order.id, Order.status.in_(('created', 'closed'))).execute())
        if not changed:
            return 'duplicate'
        order = Order.get_by_id(order.id)
        seat = Seat.get(Seat.order == order.id)
        if _seat_is_live(seat, group, min(notice.paid_at or now, now), now):
            outcome = _seat_paid(deps, seat, group, order, now, after)
        else:
            if seat.status == 'reserved':
                Seat.update(status='released').where(Seat.id == seat.id).execute()
                after.add(deps.ledger.release, group.id, seat.user_id)
            outcomes.start_refund(deps, order, 'late_payment', now, after)
            record_event('late_payment_refunded', user=order.user_id, group=group.id,
                         campaign=group.campaign_id, at=now, amount_fen=order.amount_fen)
            outcome = 'refunding'
    after.run()
    return outcome


def close_at_wechat(deps, order: Order):
    """closeorder, so the payer cannot pay a seat that is gone. None when WeChat closed it; WeChat's word on
    the payment (orderquery) when it answered ORDERPAID: the payer was quicker. Raises GatewayError."""
    if deps.gateway.close_order(order.out_trade_no) != 'paid':
        return None
    return deps.gateway.query_order(order.out_trade_no)


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


def _seat_paid(deps, seat, group, order, now, after) -> str:
    Seat.update(status='paid').where(Seat.id == seat.id).execute()
    User.update(first_paid_at=now).where(User.id == seat.user_id, User.first_paid_at.is_null()).execute()
    after.add(deps.deadlines.cancel, 'release', seat.id)
    after.add(deps.ledger.mark_paid, group.id, seat.user_id)
    record_event('order_paid', user=seat.user_id, group=group.id, campaign=group.campaign_id, at=now,
                 amount_fen=order.amount_fen, role=seat.role)
    if seat.role == 'leader':
        deadline = now + dt.timedelta(seconds=group.campaign.duration_s)
        Group.update(status='forming', deadline_at=deadline).where(Group.id == group.id).execute()
        group.status, group.deadline_at = 'forming', deadline
        after.add(deps.ledger.set_state, group.id, 'open', to_ms(deadline))
        after.add(deps.deadlines.schedule, 'settle', group.id, to_ms(deadline))
        outcome = 'group_formed'
    else:
        outcome = 'seated'
    joined = member(User.get_by_id(seat.user_id), seat.role)
    after.add(announce, deps, group, 'group_formed' if seat.role == 'leader' else 'member_joined',
              member=joined)
    if outcomes.paid_seat_count(group.id) >= group.size:
        outcomes.succeed_group(deps, group, now, after)
        return 'group_succeeded'
    facts = group_facts(group, now)
    if seat.role == 'leader':
        notify(deps, 'group_opened', {seat.user_id: facts}, f'group_opened:{group.id}', after)
        schedule_nudges(deps, group, after)
    else:
        joiner = joined['nickname']
        others = [s.user_id for s in Seat.select(Seat.user).where(
            Seat.group == group.id, Seat.status == 'paid', Seat.user != seat.user_id)]
        notify(deps, 'member_joined', {u: dict(facts, joiner=joiner) for u in others},
               f'member_joined:{seat.id}', after)
    return outcome
