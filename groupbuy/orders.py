"""A user's own orders and course access, as the user is allowed to see them."""
from peewee import JOIN

from . import errors
from .models import Course, Enrollment, Group, Order, Refund
from .outcomes import PARTIAL_REFUND

REFUND_ATTR = 'joined_refund'  # where list_orders puts each order's full refund (None: no refund)
TIER_REFUND_ATTR = 'joined_tier_refund'  # ... and its tier difference (a tiered group)


def get_own_order(user, order_id: int) -> Order:
    """Raises NotFound, Forbidden (someone else's order)."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        raise errors.NotFound(f'order {order_id} not found')
    if order.user_id != user.id:
        raise errors.Forbidden('that order is not yours')
    return order


def list_orders(user, limit: int = 200) -> list[Order]:
    """Newest first, each with its group and refunds read in the same query (one statement for any N)."""
    tier = Refund.alias()
    return list(Order.select(Order, Group, Refund, tier).join(Group, JOIN.LEFT_OUTER).switch(Order)
                .join(Refund, JOIN.LEFT_OUTER, on=((Refund.order == Order.id) & (Refund.reason != PARTIAL_REFUND)),
                      attr=REFUND_ATTR).switch(Order)
                .join(tier, JOIN.LEFT_OUTER, on=((tier.order == Order.id) & (tier.reason == PARTIAL_REFUND)),
                      attr=TIER_REFUND_ATTR)
                .where(Order.user == user.id).order_by(Order.id.desc()).limit(limit))


def list_enrollments(user) -> list[Enrollment]:
    return list(Enrollment.select(Enrollment, Course).join(Course)
                .where(Enrollment.user == user.id).order_by(Enrollment.id.desc()))


def refund_of(order: Order, partial: bool = False) -> Refund | None:
    """The order's full refund (or, `partial`, its tier difference): the one `list_orders` read with it, else
    looked up."""
    attr = TIER_REFUND_ATTR if partial else REFUND_ATTR
    if attr in order.__dict__:
        return order.__dict__[attr]
    return Refund.get_or_none(Refund.order == order.id,
                              (Refund.reason == PARTIAL_REFUND) if partial else (Refund.reason != PARTIAL_REFUND))
