"""A user's own orders and course access, as the user is allowed to see them."""
from . import errors
from .models import Course, Enrollment, Order, Refund


def get_own_order(user, order_id: int) -> Order:
    """Raises NotFound, Forbidden (someone else's order)."""
    order = Order.get_or_none(Order.id == order_id)
    if order is None:
        raise errors.NotFound(f'order {order_id} not found')
    if order.user_id != user.id:
        raise errors.Forbidden('that order is not yours')
    return order


def list_orders(user, limit: int = 200) -> list[Order]:
    return list(Order.select().where(Order.user == user.id).order_by(Order.id.desc()).limit(limit))


def list_enrollments(user) -> list[Enrollment]:
    return list(Enrollment.select(Enrollment, Course).join(Course)
                .where(Enrollment.user == user.id).order_by(Enrollment.id.desc()))


def refund_of(order: Order) -> Refund | None:
    return Refund.get_or_none(Refund.order == order.id)
