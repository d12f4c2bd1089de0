"""The money invariants of DESIGN.md §7, checked against the database (`flask audit`)."""
import datetime as dt
from dataclasses import dataclass

from peewee import JOIN, fn

from . import rewards, tiers
from .models import Campaign, Enrollment, Group, Order, Refund, Seat
from .outcomes import PARTIAL_REFUND

MONEY_IN = ('paid', 'fulfilled', 'refunding', 'refunded')
# An order WeChat may still hold money for or be asked about: payable, paid, refundable after sale, being refunded.
AT_WECHAT = ('created', 'paid', 'fulfilled', 'refunding')


@dataclass(frozen=True)
class Offender:
    rule: str
    subject: str
    detail: str

    def __str__(self):
        return f'{self.rule}: {self.subject}: {self.detail}'


def audit(now: dt.datetime, grace_s: int = 600, pay_appids: tuple[str, ...] | None = None) -> list[Offender]:
    """Every broken invariant. Money still on its way (a refund just submitted, a group whose
    deadline passed moments ago) is allowed for `grace_s` seconds, then it is an offender too.
    `pay_appids`: the appids our merchant's orders may be under (`flask audit` passes the gateway's); an order
    still at WeChat under any other appid can be neither queried, closed nor refunded."""
    out: list[Offender] = []
    if pay_appids is not None:
        out += _unknown_pay_appids(pay_appids)
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
        full = [r for r in refunds if r.reason != PARTIAL_REFUND]
        if not full:
            out.append(Offender('refund_missing', f'order {o.id}', f'{o.status} without a refund'))
        elif o.status == 'refunded' and full[0].status != 'succeeded':
            out.append(Offender('refund_not_confirmed', f'order {o.id}', f'refund is {full[0].status}'))
        elif o.status == 'refunding' and full[0].created_at < cutoff:
            out.append(Offender('refund_stuck', f'order {o.id}',
                                f'refund {full[0].status} since {full[0].created_at:%Y-%m-%d %H:%M:%S}'))
    for r in Refund.select().where(Refund.amount_fen <= 0):
        out.append(Offender('refund_not_positive', f'refund {r.id}', f'{r.amount_fen} fen: WeChat refuses it'))
    for r in Refund.select().where(Refund.reason == PARTIAL_REFUND, Refund.status.in_(('pending', 'submitted')),
                                   Refund.created_at < cutoff):
        out.append(Offender('refund_stuck', f'order {r.order_id}',
                            f'tier difference {r.status} since {r.created_at:%Y-%m-%d %H:%M:%S}'))
    for row in (Refund.select(Refund.order, fn.SUM(Refund.amount_fen).alias('back'), Order.amount_fen)
                .join(Order).group_by(Refund.order, Order.amount_fen)
                .having(fn.SUM(Refund.amount_fen) > Order.amount_fen)):
        out.append(Offender('refund_too_large', f'order {row.order_id}', f'{row.back} > {row.order.amount_fen}'))
    for r in (Refund.select(Refund, Order).join(Order)
              .where(((Refund.reason != PARTIAL_REFUND) & Order.status.not_in(('refunding', 'refunded')))
                     | ((Refund.reason == PARTIAL_REFUND) & Order.status.not_in(('fulfilled', 'refunding', 'refunded'))))):
        out.append(Offender('refund_on_unrefunded_order', f'refund {r.id}', f'order is {r.order.status}'))
    for o in Order.select().where(Order.amount_fen == 0, (Order.transaction_id.is_null(False))
                                  | Order.status.in_(('refunding', 'refunded'))):
        out.append(Offender('free_seat_charged', f'order {o.id}', f'a free seat is {o.status} '
                                                                   f'(transaction {o.transaction_id})'))
    out += _tier_differences()
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
    out += [Offender(*o) for o in rewards.check_ledger()]
    return out


def _unknown_pay_appids(pay_appids: tuple[str, ...]) -> list[Offender]:
    """Orders WeChat still holds or may be asked about, made under an appid that is not one of ours (null: from
    before appids were kept, the mini-program's)."""
    return [Offender('pay_appid_unknown', f'order {o.id}',
                     f'{o.status} under appid {o.pay_appid}, not one of ours ({", ".join(pay_appids)}): '
                     'WeChat answers for it only under that appid')
            for o in Order.select(Order.id, Order.status, Order.pay_appid)
            .where(Order.status.in_(AT_WECHAT), Order.pay_appid.is_null(False), Order.pay_appid.not_in(pay_appids))]


def _tier_differences() -> list[Offender]:
    """A tiered group that succeeded returned to each payer exactly the difference to the tier it reached, once."""
    out = []
    for g in Group.select().where(Group.status == 'succeeded', Group.tiers.is_null(False)):
        orders = list(Order.select().where(Order.group == g.id, Order.status.in_(('fulfilled', 'refunding', 'refunded'))
                                           | ((Order.status == 'closed') & (Order.amount_fen == 0))))
        got = {r.order_id: r.amount_fen for r in Refund.select().where(Refund.order.in_([o.id for o in orders]),
                                                                        Refund.reason == PARTIAL_REFUND)}
        paid_seats = Seat.select().where(Seat.group == g.id, Seat.status == 'paid').count()
        doubles = (Refund.select().join(Order)  # refunded whole when the group succeeded: they set no tier
                   .where(Order.group == g.id, Refund.reason == 'already_enrolled', Refund.created_at == g.closed_at)
                   .count())
        reached = tiers.reached(tiers.parse(g.tiers), paid_seats - doubles)
        for o in orders:
            if o.status != 'fulfilled' and o.id not in got:
                continue  # refunded whole (already enrolled): no difference owed on top
            owed = tiers.difference_fen(o.amount_fen, o.discount_fen, reached)
            if got.get(o.id, 0) != owed:
                out.append(Offender('tier_difference_wrong', f'order {o.id}',
                                    f'group {g.id} reached {reached.size if reached else 0}: owed {owed} fen back, '
                                    f'refund of {got.get(o.id, 0)}'))
    return out


def _campaign_balances() -> list[Offender]:
    """Per campaign: money in − money refunded = fulfilled + still in flight (paid, refunding)."""
    out = []
    for c in Campaign.select():
        orders = Order.select().join(Group).where(Group.campaign == c.id)
        def total(statuses):
            return (orders.where(Order.status.in_(statuses))
                    .select(fn.COALESCE(fn.SUM(Order.amount_fen), 0)).scalar() or 0)
        def back(statuses):
            return (Refund.select(fn.COALESCE(fn.SUM(Refund.amount_fen), 0)).join(Order).join(Group)
                    .where(Group.campaign == c.id, Refund.status == 'succeeded', Order.status.in_(statuses))
                    .scalar() or 0)
        money_in = total(MONEY_IN)
        refunded = back(MONEY_IN)
        # what is still held: fulfilled (less tier differences returned) and in flight (less what already came back)
        settled = total(('fulfilled', 'paid', 'refunding')) - back(('fulfilled', 'paid', 'refunding'))
        if money_in - refunded != settled:
            out.append(Offender('campaign_unbalanced', f'campaign {c.id}',
                                f'in {money_in} − refunded {refunded} ≠ fulfilled+in flight {settled}'))
    return out
