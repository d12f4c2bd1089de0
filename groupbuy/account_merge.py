"""Joining one person's two User rows into one (WeChat told us they share a unionid).

Typical case: someone met the official account first (the bot or the H5 page made a user with
only `oa_openid`), then opened the mini-program (a second user with `openid`). Everything the
dropped row owns — orders, seats, enrollments, groups led, events, messages, referrals — moves to
the kept row in one transaction; if anything cannot move (both hold a live seat in one group),
nothing does and AccountConflict is raised.
"""
import logging

from peewee import IntegrityError

from . import errors, rewards
from .accounts import DEFAULT_NICKNAME
from .db import locked
from .domain_events import UsersMerged
from .models import LIVE_GROUP, Enrollment, Group, Order, Seat, User
from .outcomes import start_refund
from .rooms import people as rooms_people
from .transition import transition

log = logging.getLogger(__name__)


def merge_users(deps, a_id: int, b_id: int) -> User:
    """Fold one of two users into the other and return the survivor: the one with a mini-program
    openid (it pays and holds API tokens), else the older. A parallel merge that already happened
    is fine. Raises AccountConflict (nothing changed)."""
    with transition(deps) as t:
        pair = list(locked(User.select().where(User.id.in_((a_id, b_id))).order_by(User.id)))
        if len(pair) < 2:
            return pair[0] if pair else User.get_by_id(a_id)
        keep, drop = sorted(pair, key=lambda u: (u.openid is None, u.id))
        groups = _move_seats(keep, drop)
        _move_enrollments(t, keep, drop)
        rooms_people.before_merge(keep.id, drop.id)  # one visit, subscription, mute per person and room
        rewards.before_merge(t.now, keep.id, drop.id)  # one newcomer, one referral reward
        _move_other_rows(keep, drop)
        _combine_identities(keep, drop)
        t.emit(UsersMerged(keep.id, drop.id, groups))
    log.info('merged user %s into %s', drop.id, keep.id)
    return User.get_by_id(keep.id)


def _move_seats(keep: User, drop: User) -> list[int]:
    """Move every seat; returns the live groups whose Redis ledger must follow."""
    live = Seat.status != 'released'
    kept_groups = {s.group_id for s in Seat.select(Seat.group).where(Seat.user == keep.id, live)}
    dropped = list(Seat.select(Seat, Group).join(Group).where(Seat.user == drop.id, live))
    clash = [s.group_id for s in dropped if s.group_id in kept_groups]
    if clash:
        raise errors.AccountConflict(f'both accounts hold a seat in group {clash[0]}')
    Seat.update(user=keep.id).where(Seat.user == drop.id).execute()
    return sorted({s.group_id for s in dropped if s.group.status in LIVE_GROUP})


def _move_enrollments(t, keep: User, drop: User) -> None:
    """A course both accounts own stays owned once (by the kept user), and the person paid for it
    twice: the dropped account's order is refunded (`already_enrolled`). The rest move over.
    (Rows logged for the dropped account now move to the kept one with every other row.)"""
    owned = Enrollment.select(Enrollment.course).where(Enrollment.user == keep.id)
    twice = list(Enrollment.select().where(Enrollment.user == drop.id, Enrollment.course.in_(owned)))
    for enrollment in twice:
        order = Order.get_or_none(Order.id == enrollment.order_id)
        if order is not None:
            start_refund(t, order, 'already_enrolled', from_statuses=('fulfilled',))
    Enrollment.delete().where(Enrollment.id.in_([e.id for e in twice])).execute()
    Enrollment.update(user=keep.id).where(Enrollment.user == drop.id).execute()


def _move_other_rows(keep: User, drop: User) -> None:
    """Every other table that points at a user (new ones included), found from the model graph."""
    for field, model in User._meta.backrefs.items():
        if model in (Seat, Enrollment) or field is User.referred_by:
            continue
        try:
            model.update({field: keep.id}).where(field == drop.id).execute()
        except IntegrityError as exc:
            raise errors.AccountConflict(f'{model.__name__} rows of both accounts collide: {exc}') from exc
    User.update(referred_by=keep.id).where(User.referred_by == drop.id, User.id != keep.id).execute()


def _combine_identities(keep: User, drop: User) -> None:
    first = keep if keep.created_at <= drop.created_at else drop
    referrer = first.referred_by_id or (drop if first is keep else keep).referred_by_id
    oa_from = keep if keep.oa_openid else drop
    paid = [t for t in (keep.first_paid_at, drop.first_paid_at) if t]
    merged = dict(
        openid=keep.openid or drop.openid, oa_openid=oa_from.oa_openid, follows_oa=oa_from.follows_oa,
        unionid=keep.unionid or drop.unionid,
        nickname=keep.nickname if keep.nickname != DEFAULT_NICKNAME else drop.nickname,
        avatar_url=keep.avatar_url or drop.avatar_url,
        phone=keep.phone or drop.phone,
        phone_country_code=keep.phone_country_code if keep.phone else drop.phone_country_code,
        created_at=min(keep.created_at, drop.created_at), first_paid_at=min(paid) if paid else None,
        referred_by=referrer if referrer not in (keep.id, drop.id) else None)
    # The dropped row gives up its unique ids before the kept row takes them.
    User.update(openid=None, oa_openid=None).where(User.id == drop.id).execute()
    User.delete().where(User.id == drop.id).execute()
    User.update(**merged).where(User.id == keep.id).execute()
