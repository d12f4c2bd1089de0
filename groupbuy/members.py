"""Who is in a group: the paid members (the avatar row, the people a push goes to) and one user's seat."""
from .models import Group, Order, Seat, User
from .prepared import Prepared


_PAID = Prepared(lambda group_id: Seat.select(Seat, User, Order.id, Order.course).join(User).switch(Seat).join(Order)
                 .where(Seat.group == group_id, Seat.status == 'paid').order_by(Seat.id), group_id=int)


def paid_members(group: Group) -> list[Seat]:
    """Paid seats with their users, in the order they joined (the avatar row; every group answer shows it)."""
    return list(iter(_PAID.rows(group_id=group.id)))  # list() of the wrapper itself would read the rows twice (len)


def paid_member_ids(group_id: int) -> list[int]:
    return [s.user_id for s in Seat.select(Seat.user).where(Seat.group == group_id, Seat.status == 'paid')]


def seat_of(group: Group, user: User) -> Seat | None:
    """The user's latest seat in the group, whatever its status."""
    return (Seat.select().where(Seat.group == group.id, Seat.user == user.id)
            .order_by(Seat.id.desc()).first())
