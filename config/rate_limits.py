"""HTTP rate limits: the one table of what is limited, per whom, and which setting holds the rate.

One Flask-Limiter per app, counting in the Runtime's Redis (every web process shares the counts; on a Redis
Cluster, limits' cluster storage on the same nodes: `wiring.rate_limit_storage`), moving window. `apply` puts
the table on the views once every blueprint is registered (`wsgi.create_app`): the check runs inside the
wrapped view, after the before_request hooks. Rates are settings (`RATE_LIMIT_*`, config/settings.py); '' turns
one off, `RATE_LIMITS_ENABLED=0` all of them (load tests only).

A limit counts one identity: the verified user, the device id the client keeps, the client's address
(behind PROXY_HOPS proxies, see wsgi.py), or the console's sign-in name. A request without that identity
skips that limit (no device id, no valid token); the address limit always holds. A breach answers 429 with
`Retry-After` in seconds (set here, for every kind of page): the API's JSON error `rate_limited`, the
console's and the H5 pages' own HTML. When Redis fails, each process counts in its own memory until Redis
answers again (Flask-Limiter logs the switch): an outage never takes the API down.
"""
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, g, request
from flask_limiter import Limiter

from miniapp_api.auth import optional_user
from miniapp_api.client import client_ip, device_id

from .wiring import rate_limit_storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Key:
    """Whom a limit counts; `of()` is '' when the request does not carry that identity."""
    name: str
    of: Callable[[], str]


def verified_user() -> str:
    """The id of the user the bearer token names, checked as `login_required` checks it (signature, the
    user's key, the row) — never the token string, which an attacker could rotate at will. Looked up once
    per request for all the limits that ask."""
    if 'pinke_limited_user' not in g:
        user = optional_user()
        g.pinke_limited_user = str(user.id) if user else ''
    return g.pinke_limited_user


def console_login_name() -> str:
    return (request.form.get('name') or '').strip().lower()[:64]


USER, DEVICE, IP = Key('user', verified_user), Key('device', device_id), Key('address', client_ip)
LOGIN_NAME = Key('name', console_login_name)
# One name from one address: the strict failure count, so a stranger elsewhere cannot lock an operator out.
NAME_AT_ADDRESS = Key('name at address', lambda: f'{console_login_name()}@{client_ip()}' if console_login_name() else '')


def refused_push(response) -> bool:
    """A push that cannot have come from WeChat (forged or stale signature, replayed nonce, plaintext in safe
    mode): 403. WeChat's own pushes are signed, so they never count, however many it sends."""
    return response.status_code == 403


def failed_sign_in(response) -> bool:
    return response.status_code == 401


@dataclass(frozen=True)
class Limit:
    endpoint: str
    setting: str  # the Settings field holding the rate: '10 per minute; 30 per hour'; '' = no limit
    per: tuple[Key, ...]  # each key counts on its own
    what: str  # for the 429's message
    methods: tuple[str, ...] | None = None  # None: every method the endpoint serves
    counts: Callable | None = None  # only responses it accepts count (`deduct_when`); None: every request

    def message(self, key: Key, rate: str) -> str:
        return f'too many {self.what} for this {key.name} ({rate}); try again after Retry-After seconds'


SHARES = ('share.share_payload', 'share.poster', 'share.card', 'share.share_click')
ROOM_READS = ('rooms.show_room', 'rooms.campaign_room', 'rooms.subscribe')
H5_PAGES = ('h5.group_page', 'h5.oauth_return', 'h5.miniapp_code')  # a browser's navigation: no device header

# The bot callback has no per-follower limit, on purpose: the sender is inside the encrypted body, so the
# limit would have to decrypt before the push's own checks; a follower's messages are WeChat's (signed,
# paced by WeChat, each handled once); and a 429 would not slow them down — WeChat retries three times and
# then tells the follower the account is broken. Only pushes refused as not WeChat's count, per address,
# so no volume of WeChat's own traffic is ever throttled.
LIMITS = (
    Limit('auth.wxlogin', 'rate_limit_login', (DEVICE,), 'sign-ins'),
    Limit('auth.wxlogin', 'rate_limit_login_ip', (IP,), 'sign-ins'),
    Limit('groups.open_group', 'rate_limit_open', (USER, DEVICE), 'groups opened'),
    Limit('groups.open_group', 'rate_limit_open_ip', (IP,), 'groups opened'),
    Limit('groups.join_group', 'rate_limit_join', (USER, DEVICE), 'joins'),
    Limit('groups.join_group', 'rate_limit_join_ip', (IP,), 'joins'),
    *(Limit(endpoint, 'rate_limit_share', (DEVICE,), 'share requests') for endpoint in SHARES),
    *(Limit(endpoint, 'rate_limit_share_ip', (IP,), 'share requests') for endpoint in SHARES + H5_PAGES),
    Limit('wechat_bot.receive', 'rate_limit_bot_refused_ip', (IP,), 'refused pushes', counts=refused_push),
    Limit('wechat_bot.confirm_url', 'rate_limit_bot_refused_ip', (IP,), 'refused URL checks', counts=refused_push),
    # Failures counted per name at an address (strict) and per name (a spread-out guesser); every attempt counted
    # up front per address and per name, so a burst sent at once cannot pass before its failures are counted.
    Limit('console_login.sign_in', 'rate_limit_console_login', (NAME_AT_ADDRESS,), 'failed sign-ins',
          methods=('POST',), counts=failed_sign_in),
    Limit('console_login.sign_in', 'rate_limit_console_login_name', (LOGIN_NAME,), 'failed sign-ins',
          methods=('POST',), counts=failed_sign_in),
    Limit('console_login.sign_in', 'rate_limit_console_login_all', (LOGIN_NAME, IP), 'sign-in attempts',
          methods=('POST',)),
    # Warm-up live rooms: questions per person (user and device) and per address; the room page as the H5 pages.
    Limit('rooms.ask_question', 'rate_limit_room_question', (USER, DEVICE), 'questions'),
    Limit('rooms.ask_question', 'rate_limit_room_question_ip', (IP,), 'questions'),
    Limit('h5_room.room_page', 'rate_limit_share_ip', (IP,), 'page views'),
    # Reading a room (a signed-in read writes the attendance row) and subscribing: as the share requests.
    *(Limit(endpoint, 'rate_limit_share', (DEVICE,), 'room requests') for endpoint in ROOM_READS),
    *(Limit(endpoint, 'rate_limit_share_ip', (IP,), 'room requests') for endpoint in ROOM_READS),
)


def limiter_for(app: Flask) -> Limiter:
    """One Limiter per app (tests build several apps in one process, each on its own Redis and prefix)."""
    rt = app.extensions['pinke']
    storage_uri, storage_options = rate_limit_storage(rt.settings, rt.redis)  # one server or a cluster
    return Limiter(client_ip, app=app, storage_uri=storage_uri, strategy='moving-window',
                   storage_options=storage_options, in_memory_fallback_enabled=True, swallow_errors=True)


def apply(app: Flask) -> Limiter | None:
    """Every limit of the table on its endpoint (a renamed endpoint fails here, at start-up)."""
    settings = app.extensions['pinke'].settings
    if not settings.rate_limits_enabled:
        log.warning('RATE_LIMITS_ENABLED is off: no HTTP rate limits')
        return None
    limiter = limiter_for(app)
    for limit in LIMITS:
        view, rate = app.view_functions[limit.endpoint], getattr(settings, limit.setting)
        for key in limit.per if rate.strip() else ():
            view = limiter.limit(rate, key_func=_keyed(key), exempt_when=_missing(key),
                                 methods=list(limit.methods) if limit.methods else None, deduct_when=limit.counts,
                                 error_message=limit.message(key, rate))(view)
        app.view_functions[limit.endpoint] = view
    app.after_request(lambda response: _retry_after(limiter, response))
    return limiter


def _keyed(key: Key) -> Callable[[], str]:
    return lambda: f'{key.name}:{key.of()}'  # the name keeps a user id and a device id with the same text apart


def _missing(key: Key) -> Callable[[], bool]:
    return lambda: not key.of()


def _retry_after(limiter: Limiter, response):
    """A 429 of ours says when to come back: whole seconds until the breached window lets one more in."""
    breached = limiter.current_limit
    if response.status_code == 429 and breached is not None and breached.breached:
        try:
            reset_at = breached.window.reset_time
        except Exception:  # noqa: BLE001 — the storage failed just now; a minute is a fair guess
            log.exception('could not read the rate limit window')
            reset_at = time.time() + 60
        response.headers['Retry-After'] = str(max(1, math.ceil(reset_at - time.time())))
    return response
