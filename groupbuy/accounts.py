"""Users: looking one up, their profile, their tokens (sign-in is groupbuy/identity.py)."""
from . import errors
from .models import User, new_token_key
from .prepared import Prepared


_BY_ID = Prepared(lambda user_id: User.select().where(User.id == user_id).limit(1), user_id=int)


def get_user(user_id: int) -> User:
    """Raises NotFound. Every signed-in request asks (the token's user): built once (groupbuy/prepared.py)."""
    user = _BY_ID.first(user_id=user_id)
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


DEFAULT_NICKNAME = '微信用户'


def revoke_tokens(user_id: int) -> None:
    """Every token issued to this user stops working (a lost phone, a leaked link, a logout):
    tokens carry the user's `token_key`, and this gives the user a new one. Raises NotFound."""
    if not User.update(token_key=new_token_key()).where(User.id == user_id).execute():
        raise errors.NotFound('user not found')


def oa_recipient(user: User) -> str | None:
    """The official-account openid a template message can reach, or None: the user never met the
    official account, or has unfollowed it (WeChat refuses template messages to non-followers)."""
    return user.oa_openid if user.oa_openid and user.follows_oa else None


def needs_profile(user: User) -> bool:
    """True while we have no real nickname or avatar to show in a group's member row."""
    return user.nickname == DEFAULT_NICKNAME or not user.avatar_url


def adopt_wechat_profile(user: User, nickname: str | None, avatar_url: str | None) -> User:
    """Take the nickname and avatar WeChat gave (H5 `snsapi_userinfo`) where we have none yet;
    what the user set themselves is kept."""
    changes = {}
    if nickname and nickname.strip() and user.nickname == DEFAULT_NICKNAME:
        changes['nickname'] = nickname.strip()[:64]
    if avatar_url and not user.avatar_url:
        changes['avatar_url'] = avatar_url[:512]
    return update_profile(user, **changes) if changes else user


def save_phone(user: User, phone: str, country_code: str | None = None) -> User:
    """Remember the phone number WeChat vouched for (mini-program getPhoneNumber). Raises InvalidInput."""
    phone = (phone or '').strip()
    if not (phone.isdigit() and 5 <= len(phone) <= 20):
        raise errors.InvalidInput('WeChat returned no usable phone number')
    User.update(phone=phone, phone_country_code=country_code).where(User.id == user.id).execute()
    user.phone, user.phone_country_code = phone, country_code
    return user
