"""The people who run the shop: operator accounts with roles, their console sessions, and the log of
everything they do (who, what, when, before → after).

Passwords are kept as werkzeug's scrypt hashes (werkzeug ships with Flask; the domain only calls its two
functions). A session is a random token in an HttpOnly cookie; only its SHA-256 is stored, so a stolen
database cannot be replayed as a login, and ending a session (logout, a disabled operator) is immediate.
"""
import datetime as dt
import hashlib
import json
import re
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

from . import errors
from .models import Operator, OperatorAction, OperatorSession

ROLES = ('operator', 'analyst', 'finance')
# What each role may do; 'view' is reading every console page.
PERMISSIONS = {
    'operator': {'view', 'campaigns', 'groups', 'broadcasts', 'experiments', 'risk', 'rooms'},
    'analyst': {'view', 'export'},
    'finance': {'view', 'export', 'refunds', 'audit'},
}
IDLE_S = 2 * 3600  # a session unused this long ends
MAX_S = 12 * 3600  # and none outlives a working day
MIN_PASSWORD = 10
AUTOMATION = 'ADMIN_TOKEN'  # the actor name of calls made with the bearer token
DEMO = {'demo': 'operator', 'demo-analyst': 'analyst', 'demo-finance': 'finance'}  # `make run` on the sandbox only
_NAME = re.compile(r'^[A-Za-z0-9_.@-]{2,64}$')
_UNUSABLE = generate_password_hash(secrets.token_hex(16))  # checked when the name is unknown: same cost


def can(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, set())


def create_operator(name: str, password: str, role: str, now: dt.datetime) -> Operator:
    """Raises InvalidInput (name, a password shorter than MIN_PASSWORD, an unknown role)."""
    if not _NAME.match(name or ''):
        raise errors.InvalidInput('name: 2–64 letters, digits or . _ @ -', field='name')
    if len(password or '') < MIN_PASSWORD:
        raise errors.InvalidInput(f'the password needs at least {MIN_PASSWORD} characters', field='password')
    if role not in ROLES:
        raise errors.InvalidInput(f'role must be one of {", ".join(ROLES)}', field='role')
    if Operator.select().where(Operator.name == name).exists():
        raise errors.InvalidInput(f'an operator named {name} exists', field='name')
    return Operator.create(name=name, password_hash=generate_password_hash(password), role=role, created_at=now)


def authenticate(name: str, password: str) -> Operator | None:
    """The operator if the password is theirs and they are not disabled. An unknown name costs the same
    hash check as a wrong password, so timing does not tell which names exist."""
    operator = Operator.get_or_none(Operator.name == name)
    ok = check_password_hash(operator.password_hash if operator else _UNUSABLE, password or '')
    return operator if ok and operator is not None and operator.disabled_at is None else None


def start_session(operator: Operator, now: dt.datetime) -> tuple[str, OperatorSession]:
    """A new session; the token goes in the cookie and is never stored."""
    token = secrets.token_urlsafe(32)
    session = OperatorSession.create(token_hash=_digest(token), operator=operator, csrf_token=secrets.token_urlsafe(32),
                                     created_at=now, expires_at=now + dt.timedelta(seconds=IDLE_S))
    return token, session


def session_for(token: str | None, now: dt.datetime) -> OperatorSession | None:
    """The live session behind a cookie (its operator loaded), its idle expiry moved on; else None."""
    if not token:
        return None
    session = (OperatorSession.select(OperatorSession, Operator).join(Operator)
               .where(OperatorSession.token_hash == _digest(token), OperatorSession.ended_at.is_null(),
                      OperatorSession.expires_at > now, Operator.disabled_at.is_null()).first())
    if session is None:
        return None
    expires = min(now + dt.timedelta(seconds=IDLE_S), session.created_at + dt.timedelta(seconds=MAX_S))
    if expires - session.expires_at > dt.timedelta(minutes=1):  # write at most once a minute
        OperatorSession.update(expires_at=expires).where(OperatorSession.id == session.id).execute()
        session.expires_at = expires
    return session


def end_session(token: str | None, now: dt.datetime) -> None:
    if token:
        OperatorSession.update(ended_at=now).where(OperatorSession.token_hash == _digest(token),
                                                   OperatorSession.ended_at.is_null()).execute()


def disable(name: str, now: dt.datetime) -> Operator:
    """An operator who left: no new sign-in, and every open session ends now. Raises NotFound."""
    operator = Operator.get_or_none(Operator.name == name)
    if operator is None:
        raise errors.NotFound(f'no operator named {name}')
    Operator.update(disabled_at=now).where(Operator.id == operator.id).execute()
    OperatorSession.update(ended_at=now).where(OperatorSession.operator == operator.id,
                                               OperatorSession.ended_at.is_null()).execute()
    return operator


def record_action(operator: Operator | None, action: str, target: str, now: dt.datetime,
                  before: dict | None = None, after: dict | None = None) -> OperatorAction:
    """One line of the action log; `operator` None is the bearer token (automation)."""
    return OperatorAction.create(operator=operator, actor=operator.name if operator else AUTOMATION, action=action,
                                 target=target[:64], at=now,
                                 before=json.dumps(before or {}, ensure_ascii=False, default=str),
                                 after=json.dumps(after or {}, ensure_ascii=False, default=str))


def recent_actions(limit: int = 100, target: str | None = None) -> list[OperatorAction]:
    query = OperatorAction.select()
    if target:
        query = query.where(OperatorAction.target == target)
    return list(query.order_by(OperatorAction.id.desc()).limit(limit))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
