"""Who brought whom: every share link, card and poster carries its sharer as a signed ref.

A ref is the sharer's user id (base 36) and 8 hex digits of an HMAC, short enough for a
mini-program code's 32-character scene next to a share code, and not forgeable: nobody can
claim to have brought a friend they did not.
"""
import hashlib
import hmac
import re

from .domain_events import GroupShared, ShareClicked
from .models import User
from .once import first_time
from .transition import transition

_REF = re.compile(r'^([0-9a-z]{1,13})([0-9a-f]{8})$')


def share_ref(secret: str, user_id: int) -> str:
    return _base36(user_id) + _sig(secret, user_id)


def referrer_id(secret: str, ref: str | None) -> int | None:
    """The user id inside a ref, or None when there is none or it is forged or malformed."""
    m = _REF.match(ref or '')
    if not m:
        return None
    user_id = int(m.group(1), 36)
    return user_id if hmac.compare_digest(m.group(2), _sig(secret, user_id)) else None


def existing_referrer(secret: str, ref: str | None, newcomer_id: int | None = None) -> int | None:
    """The referrer's id if the ref is genuine, the user still exists and is not the newcomer."""
    user_id = referrer_id(secret, ref)
    if user_id is None or user_id == newcomer_id or not User.select().where(User.id == user_id).exists():
        return None
    return user_id


def record_share_click(deps, group_id: int, campaign_id: int, viewer_id: int | None, referrer: int | None,
                       channel: str, visit_key: str) -> bool:
    """Count one arrival through a share (H5 link, card, poster, official-account QR). A reload or a
    second tap by the same visitor (`visit_key`) within 30 minutes is the same click. True if counted."""
    if not first_time(deps, 'click', f'{group_id}:{referrer}:{visit_key}', 1800):
        return False
    with transition(deps) as t:
        t.emit(ShareClicked(viewer_id, group_id, campaign_id, {'referred_by': referrer, 'channel': channel}))
    return True


def record_share(deps, group_id: int, campaign_id: int, sharer_id: int | None, visit_key: str) -> bool:
    """Count one share of a group: someone took its share card (the mini-program asks for it when the
    share sheet opens). The same sharer (`visit_key`) again within 30 minutes is the same share. True if
    counted."""
    if not first_time(deps, 'share', f'{group_id}:{visit_key}', 1800):
        return False
    with transition(deps) as t:
        t.emit(GroupShared(sharer_id, group_id, campaign_id))
    return True


def _sig(secret: str, user_id: int) -> str:
    return hmac.new(secret.encode(), f'ref:{user_id}'.encode(), hashlib.sha256).hexdigest()[:8]


def _base36(n: int) -> str:
    digits = '0123456789abcdefghijklmnopqrstuvwxyz'
    out = ''
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out
