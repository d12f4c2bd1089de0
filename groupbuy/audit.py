"""The money invariants of DESIGN.md §7, checked against the database (`flask audit`)."""
import datetime as dt
from dataclasses import dataclass

from peewee import JOIN, fn

from .models import Campaign, Enrollment, Group, Order, Refund, Seat

MONEY_IN = ('paid', 'fulfilled', 'refunding', 'refunded')


@dataclass(frozen=True)
class Offender:
    rule: str
    subject: str
    detail: str

    def __str__(self):
        return f'{self.rule}: {self.subject}: {self.detail}'


def audit(now: dt.datetime, grace_s: int = 600) -> list[Offender]:
    """Every broken invariant. Money still on its way (a refund just submitted, a group whose
    deadline passed moments ago) is allowed for `grace_s` seconds, then it is an offender too."""
    out: list[Offender] = []
    cutoff = now - dt.timedelta(seconds=grace_s)
    for o in (Order.select().join(Enrollment, JOIN.LEFT_OUTER, on=(
            (Enrollment.user == Order.user) & (Enrollment.course == Order.course)))
            .where(Order.status == 'fulfilled', Enrollment.id.is_null())):
        out.append(Offender('fulfilled_without_enrollment', f'order {o.id}', 'no course access'))
    for o in (Order.select(Order, Group).join(Group)
              .where(Order.status == 'paid', Group.status.not_in(('pending', 'forming', 'reviewing')))):
        out.append(Offender('paid_in_closed_group', f'order {o.id}',
                            f'group {o.group.id} is {o.group.status} but the order is neither fulfilled nor refunding'))
    for o in Order.select().where(Order.status.in_(('refunding', 'refunded'))):
        refunds = list(o.refunds)
        if not refunds:
            out.append(Offender('refund_missing', f'order {o.id}', f'{o.status} without a refund'))
        elif o.status == 'refunded' and refunds[0].status != 'succeeded':
            out.append(Offender('refund_not_confirmed', f'order {o.id}', f'refund is {refunds[0].status}'))
        elif refunds[0].amount_fen > o.amount_fen:
            out.append(Offender('refund_too_large', f'order {o.id}', f'{refunds[0].amount_fen} > {o.amount_fen}'))
        elif o.status == 'refunding' and refunds[0].created_at < cutoff:
            out.append(Offender('refund_stuck', f'order {o.id}',
                                f'refund {refunds[0].status} since {refunds[0].created_at:%Y-%m-%d %H:%M:%S}'))
    for r in Refund.select(Refund, Order).join(Order).where(Order.status.not_in(('refunding', 'refunded'))):
        out.append(Offender('refund_on_unrefunded_order', f'refund {r.id}', f'order is {r.order.status}'))
    for g in Group.select().where(Group.status == 'forming', Group.deadline_at < cutoff):
        out.append(Offender('group_not_settled', f'group {g.id}', f'deadline {g.deadline_at:%Y-%m-%d %H:%M:%S} passed'))
    for g in Group.select().where(Group.status == 'reviewing', Group.review_until < cutoff):
        out.append(Offender('review_not_settled', f'group {g.id}',
                            f'in review past {g.review_until:%Y-%m-%d %H:%M:%S}: its money is neither given nor back'))
    for g in (Group.select(Group, fn.COUNT(Seat.id).alias('paid')).join(Seat)
              .where(Seat.status == 'paid').group_by(Group.id)):
        if g.paid > g.size:
            out.append(Offender('group_overfilled', f'group {g.id}', f'{g.paid} paid seats for {g.size}'))
    for row in (Seat.select(Seat.group, Seat.user, fn.COUNT(Seat.id).alias('n'))
                .where(Seat.status != 'released').group_by(Seat.group, Seat.user)
                .having(fn.COUNT(Seat.id) > 1)):
        out.append(Offender('two_live_seats', f'group {row.group_id}', f'user {row.user_id} holds {row.n}'))
    for row in (Order.select(Order.user, Order.course, fn.COUNT(Order.id).alias('n'))
                .where(Order.status == 'fulfilled').group_by(Order.user, Order.course)
                .having(fn.COUNT(Order.id) > 1)):
        out.append(Offender('paid_twice_for_course', f'user {row.user_id}',
                            f'{row.n} fulfilled orders for course {row.course_id}, none refunded'))
    out += _campaign_balances()
    return out


def _campaign_balances() -> list[Offender]:
    """Per campaign: money in − money refunded = fulfilled + still in flight (paid, refunding)."""
    out = []
    for c in Campaign.select():
        orders = Order.select().join(Group).where(Group.campaign == c.id)
        def total(statuses):
            return (orders.where(Order.status.in_(statuses))
                    .select(fn.COALESCE(fn.SUM(Order.amount_fen), 0)).scalar() or 0)
        money_in = total(MONEY_IN)
        refunded = (Refund.select(fn.COALESCE(fn.SUM(Refund.amount_fen), 0)).join(Order).join(Group)
                    .where(Group.campaign == c.id, Refund.status == 'succeeded').scalar() or 0)
        settled = total(('fulfilled',)) + total(('paid', 'refunding'))
        if money_in - refunded != settled:
            out.append(Offender('campaign_unbalanced', f'campaign {c.id}',
                                f'in {money_in} − refunded {refunded} ≠ fulfilled+in flight {settled}'))
    return out
