"""Who is in a group: the paid members (the avatar row, the people a push goes to) and one user's seat."""
from .models import Group, Order, Seat, User
from .prepared import Prepared


_PAID = Prepared(lambda group_id: Seat.select(User.nickname, User.avatar_url, Seat.role, Order.course).join(User)
                 .switch(Seat).join(Order).where(Seat.group == group_id, Seat.status == 'paid').order_by(Seat.id)
                 .tuples(), group_id=int)


def paid_members(group_id: int) -> list[tuple[str, str, str, int]]:
    """The avatar row (every group answer shows it): each paid member's (nickname, avatar_url, role, course id), in
    the order they joined. Plain rows: three models a member cost more to make than the statement to run."""
    return list(iter(_PAID.rows(group_id=group_id)))


def paid_member_ids(group_id: int) -> list[int]:
    return [s.user_id for s in Seat.select(Seat.user).where(Seat.group == group_id, Seat.status == 'paid')]


def seat_of(group: Group, user: User) -> Seat | None:
    """The user's latest seat in the group, whatever its status."""
    return (Seat.select().where(Seat.group == group.id, Seat.user == user.id)
            .order_by(Seat.id.desc()).first())
