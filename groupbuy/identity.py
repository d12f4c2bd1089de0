"""Signing in through any WeChat door — the mini-program, the H5 page in WeChat's browser, the
official-account bot — so that one person is one User.

Each door gives its own openid (mini-program `openid`, official account `oa_openid`); WeChat's
unionid is the same person across both. When a door brings a unionid that another user row
already carries, the two rows become one (`account_merge`). The first door someone comes
through may carry a referral: it is kept on the new user (`referred_by`) and in the
`user_registered` event, and never changed afterwards; so is the group whose share it was (`share_code`),
which the console's viral coefficient counts.
"""
import logging
from dataclasses import dataclass

from peewee import IntegrityError

from . import errors
from .account_merge import merge_users
from .domain_events import FollowChanged, UserRegistered
from .models import Group, User, db
from .transition import transition

log = logging.getLogger(__name__)


@dataclass
class SignIn:
    user: User
    created: bool


def sign_in_miniapp(deps, openid: str, unionid: str | None = None, referrer_id: int | None = None,
                    share_code: str | None = None) -> SignIn:
    """The person behind a mini-program login (wx.login → code2session); `share_code`: the shared group
    the mini-program was opened on, if any."""
    return _sign_in(deps, User.openid, openid, unionid, referrer_id, 'miniapp', share_code)


def sign_in_official_account(deps, oa_openid: str, unionid: str | None = None, referrer_id: int | None = None,
                             channel: str = 'h5', share_code: str | None = None) -> SignIn:
    """The person behind an official-account openid: H5 OAuth (`channel='h5'`, on a group's page) or the bot."""
    return _sign_in(deps, User.oa_openid, oa_openid, unionid, referrer_id, channel, share_code)


def set_following(deps, oa_openid: str, following: bool, referrer_id: int | None = None) -> User | None:
    """Follow (creates the user if new) or unfollow (None if we never knew them) the official account.
    Anyone who messages the account follows it, so the bot calls this for every message too.
    Template messages reach followers only: `accounts.oa_recipient` reads this."""
    if following:
        user = sign_in_official_account(deps, oa_openid, referrer_id=referrer_id, channel='oa_follow').user
    else:
        user = User.get_or_none(User.oa_openid == oa_openid)
        if user is None:
            return None
    if user.follows_oa != following:  # the bot calls this for every message: no write when nothing changes
        with transition(deps) as t:
            changed = User.update(follows_oa=following).where(User.id == user.id,
                                                              User.follows_oa != following).execute()
            if changed:
                t.emit(FollowChanged(user.id, following))
    user.follows_oa = following
    return user


def link_unionid(deps, user: User, unionid: str | None) -> User:
    """Record the user's unionid and fold in any other row of the same person. Returns the survivor
    (which may be the other row). A conflict leaves both rows as they are, logged."""
    if not unionid:
        return user
    if user.unionid != unionid:
        User.update(unionid=unionid).where(User.id == user.id).execute()
        user.unionid = unionid
    for twin_id in [u.id for u in User.select(User.id).where(User.unionid == unionid, User.id != user.id)]:
        try:
            user = merge_users(deps, user.id, twin_id)
        except errors.AccountConflict as exc:
            log.warning('users %s and %s share a unionid but stay apart: %s', user.id, twin_id, exc.message)
    return user


def _sign_in(deps, field, value: str, unionid, referrer_id, channel, share_code=None) -> SignIn:
    if not value:
        raise errors.InvalidInput('WeChat gave no openid')
    user = User.get_or_none(field == value)
    created = False
    if user is None and unionid:
        user = _claim(field, value, unionid)
    if user is None:
        user, created = _create(deps, field, value, unionid, referrer_id, channel, share_code)
    return SignIn(link_unionid(deps, user, unionid), created)


def _claim(field, value: str, unionid: str) -> User | None:
    """The same person's row from the other door, if it has no id for this door yet: add it."""
    twin = User.select().where(User.unionid == unionid, field.is_null()).order_by(User.id).first()
    if twin is None:
        return None
    try:
        with db.atomic():
            claimed = User.update({field: value}).where(User.id == twin.id, field.is_null()).execute()
    except IntegrityError:  # a parallel sign-in of the same openid won
        claimed = 0
    return User.get_or_none(field == value) if not claimed else User.get_by_id(twin.id)


def _create(deps, field, value: str, unionid, referrer_id, channel, share_code) -> tuple[User, bool]:
    if referrer_id is not None and not User.select().where(User.id == referrer_id).exists():
        referrer_id = None  # the sharer's account is gone (merged away): keep the newcomer anyway
    door = Group.select(Group.id, Group.campaign).where(Group.share_code == share_code).first() if share_code else None
    try:
        with transition(deps) as t:
            user = User.create(**{field.name: value}, unionid=unionid, referred_by=referrer_id, created_at=t.now)
            t.emit(UserRegistered(user.id, referrer_id, channel, door.id if door else None,
                                  door.campaign_id if door else None))
    except IntegrityError:  # a parallel first sign-in of the same person won the insert
        return User.get(field == value), False
    return user, True
