"""What operators look up: groups by filter, one group's whole record, one person's whole record.
Read-only, a fixed handful of queries each (no query per row)."""
import datetime as dt
import re
from dataclasses import dataclass

from peewee import fn

from . import errors, progress
from .models import GROUP_STATUSES, Enrollment, Group, Notification, Order, Refund, Seat, User
from .progress import Progress

_ID = re.compile(r'^[0-9]{1,18}$')  # ASCII digits that fit an id ('²'.isdigit() is True, int('²') fails)


def find_groups(now: dt.datetime, *, status: str | None = None, campaign_id: int | None = None,
                leader: str | None = None, expiring_within_s: int | None = None, limit: int = 200) -> list[Progress]:
    """Groups, newest first. `leader`: a user id or part of a nickname. `expiring_within_s`: forming groups
    whose deadline falls within that many seconds and that are still short (soonest first)."""
    if status is not None and status not in GROUP_STATUSES:
        raise errors.InvalidInput(f'status must be one of {", ".join(GROUP_STATUSES)}', field='status')
    query = progress.query()
    if status:
        query = query.where(Group.status == status)
    if campaign_id:
        query = query.where(Group.campaign == campaign_id)
    if leader:
        by_name = User.nickname.contains(leader.strip())
        numeric = bool(_ID.match(leader.strip()))
        query = query.where((User.id == int(leader)) | by_name if numeric else by_name)
    if expiring_within_s is not None:
        query = (query.where(Group.status == 'forming', Group.deadline_at > now,
                             Group.deadline_at <= now + dt.timedelta(seconds=expiring_within_s))
                 .having(fn.COUNT(Seat.id).filter(Seat.status == 'paid') < Group.size)
                 .order_by(Group.deadline_at))
    else:
        query = query.order_by(Group.id.desc())
    return [progress.from_row(row) for row in query.limit(limit)]


def count_groups(status: str) -> int:
    return Group.select().where(Group.status == status).count()


@dataclass(frozen=True)
class GroupRecord:
    group: Group
    progress: Progress
    seats: list[Seat]  # every seat, with its user and order, in the order taken
    refunds: list[Refund]
    messages: list[Notification]


def group_record(group_id: int) -> GroupRecord:
    """Raises NotFound."""
    p = progress.progress_of_group(group_id)
    group = Group.get_by_id(group_id)
    seats = list(Seat.select(Seat, User, Order).join(User).switch(Seat).join(Order)
                 .where(Seat.group == group_id).order_by(Seat.id))
    refunds = list(Refund.select(Refund, Order).join(Order).where(Order.group == group_id).order_by(Refund.id))
    facts = [f'{kind}:{group_id}:' for kind in ('group_opened', 'group_succeeded', 'group_failed', 'nudge')]
    facts += [f'member_joined:{s.id}:' for s in seats]
    keyed = None
    for prefix in facts:
        clause = Notification.dedupe_key.startswith(prefix)
        keyed = clause if keyed is None else keyed | clause
    messages = list(Notification.select().where(keyed).order_by(Notification.id))
    return GroupRecord(group, p, seats, refunds, messages)


@dataclass(frozen=True)
class UserRecord:
    user: User
    groups: list[Progress]  # every group they held a seat in
    orders: list[Order]
    refunds: list[Refund]
    messages: list[Notification]
    courses: list[Enrollment]
    referred: list[User]  # people who came through their shares
    referred_by: User | None


def user_record(user_id: int, limit: int = 200) -> UserRecord:
    """Raises NotFound."""
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise errors.NotFound(f'user {user_id} not found')
    theirs = Seat.select(Seat.group).where(Seat.user == user_id)
    groups = [progress.from_row(r) for r in progress.query().where(Group.id.in_(theirs))
              .order_by(Group.id.desc()).limit(limit)]
    orders = list(Order.select().where(Order.user == user_id).order_by(Order.id.desc()).limit(limit))
    refunds = list(Refund.select(Refund, Order).join(Order).where(Order.user == user_id)
                   .order_by(Refund.id.desc()).limit(limit))
    messages = list(Notification.select().where(Notification.user == user_id)
                    .order_by(Notification.id.desc()).limit(limit))
    courses = list(Enrollment.select().where(Enrollment.user == user_id).order_by(Enrollment.id))
    referred = list(User.select().where(User.referred_by == user_id).order_by(User.id).limit(limit))
    referrer = User.get_or_none(User.id == user.referred_by_id) if user.referred_by_id else None
    return UserRecord(user, groups, orders, refunds, messages, courses, referred, referrer)


def find_users(text: str, limit: int = 50) -> list[User]:
    """By id, nickname (part of it) or phone."""
    text = (text or '').strip()
    if not text:
        return list(User.select().order_by(User.id.desc()).limit(limit))
    clause = User.nickname.contains(text) | (User.phone == text)
    if _ID.match(text):
        clause = clause | (User.id == int(text))
    return list(User.select().where(clause).order_by(User.id.desc()).limit(limit))
