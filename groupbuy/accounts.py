"""Users, known by their mini-program openid (and unionid when WeChat gives one)."""
from peewee import IntegrityError

from . import errors
from .events import record_event
from .models import User, db


def login(openid: str, unionid: str | None = None) -> tuple[User, bool]:
    """Find or create the user behind a WeChat login. Returns (user, created)."""
    user = User.get_or_none(User.openid == openid)
    if user is not None:
        if unionid and user.unionid != unionid:
            User.update(unionid=unionid).where(User.id == user.id).execute()
            user.unionid = unionid
        return user, False
    try:
        with db.atomic():
            user = User.create(openid=openid, unionid=unionid)
    except IntegrityError:  # a parallel first login of the same person won the insert
        return User.get(User.openid == openid), False
    record_event('user_registered', user=user)
    return user, True


def get_user(user_id: int) -> User:
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise errors.NotFound('user not found')
    return user


def update_profile(user: User, nickname: str | None = None, avatar_url: str | None = None) -> User:
    """Nickname and avatar come from the client (WeChat no longer gives them at login)."""
    changes = {}
    if nickname is not None:
        changes['nickname'] = nickname.strip() or '微信用户'
    if avatar_url is not None:
        changes['avatar_url'] = avatar_url
    if changes:
        User.update(**changes).where(User.id == user.id).execute()
        for k, v in changes.items():
            setattr(user, k, v)
    return user
