"""A user's own orders and course access, as the user is allowed to see them."""
from peewee import JOIN

from . import errors
from .models import Course, Enrollment, Group, Order, Refund

REFUND_ATTR = 'joined_refund'  # where list_orders puts each order's refund (None: no refund)


def get_own_order(user, order_id: int) -> Order:
    """Raises NotFound, Forbidden (someone else's order)."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        raise errors.NotFound(f'order {order_id} not found')
    if order.user_id != user.id:
        raise errors.Forbidden('that order is not yours')
    return order


def list_orders(user, limit: int = 200) -> list[Order]:
    """Newest first, each with its group and refund read in the same query (one statement for any N)."""
    return list(Order.select(Order, Group, Refund).join(Group, JOIN.LEFT_OUTER).switch(Order)
                .join(Refund, JOIN.LEFT_OUTER, attr=REFUND_ATTR)
                .where(Order.user == user.id).order_by(Order.id.desc()).limit(limit))


def list_enrollments(user) -> list[Enrollment]:
    return list(Enrollment.select(Enrollment, Course).join(Course)
                .where(Enrollment.user == user.id).order_by(Enrollment.id.desc()))


def refund_of(order: Order) -> Refund | None:
    """The order's refund: the one `list_orders` read with it, else looked up."""
    if REFUND_ATTR in order.__dict__:
        return order.__dict__[REFUND_ATTR]
    return Refund.get_or_none(Refund.order == order.id)
