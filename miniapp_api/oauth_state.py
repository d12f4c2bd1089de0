"""The `state` of an H5 OAuth round trip through WeChat.

It carries where to land (a share code, never a URL: no open redirect), the sharer, the scope
and whether the person was joining. It is signed with SECRET_KEY (nobody can alter it), expires
after 10 minutes, is bound to the browser that started the trip (a nonce also kept in its
session cookie: nobody can log a victim in as themselves) and counts once (Redis): a replayed
callback URL is refused. WeChat allows 128 bytes; ours is about 90.
"""
import re
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from groupbuy.once import first_time

SALT = 'pinke-h5-oauth-state'
MAX_AGE_S = 600
SHARE_CODE = re.compile(r'^[A-Za-z0-9_-]{1,32}$')
REF = re.compile(r'^[0-9a-z]{0,24}$')


class InvalidState(Exception):
    """The state is forged, expired, from another browser or already used."""


@dataclass(frozen=True)
class OAuthState:
    share_code: str
    ref: str | None
    scope: str
    join: bool
    nonce: str


def issue(secret: str, share_code: str, ref: str | None, scope: str, join: bool) -> OAuthState:
    return OAuthState(share_code, ref, scope, join, secrets.token_urlsafe(9))


def encode(secret: str, s: OAuthState) -> str:
    flags = ('u' if s.scope == 'snsapi_userinfo' else 'b') + ('j' if s.join else '-')
    return TimestampSigner(secret, salt=SALT).sign(f'{s.share_code}.{s.ref or ""}.{flags}.{s.nonce}').decode()


def redeem(deps, secret: str, raw: str, session_nonces: list[str]) -> OAuthState:
    """The state, if genuine, fresh, this browser's (`session_nonces`: the trips it started) and not
    used before. Raises InvalidState."""
    try:
        value = TimestampSigner(secret, salt=SALT).unsign(raw or '', max_age=MAX_AGE_S).decode()
    except SignatureExpired:
        raise InvalidState('expired')
    except BadSignature:
        raise InvalidState('forged')
    parts = value.split('.')
    if len(parts) != 4 or not SHARE_CODE.match(parts[0]) or not REF.match(parts[1]) or len(parts[2]) != 2:
        raise InvalidState('malformed')
    code, ref, flags, nonce = parts
    if not any(secrets.compare_digest(str(n), nonce) for n in session_nonces or ()):
        raise InvalidState('started in another browser')
    if not first_time(deps, 'oauth-state', nonce, MAX_AGE_S + 60):
        raise InvalidState('already used')
    return OAuthState(code, ref or None, 'snsapi_userinfo' if flags[0] == 'u' else 'snsapi_base',
                      flags[1] == 'j', nonce)
