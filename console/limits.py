"""Rate limits on Redis (Flask-Limiter over the Runtime's connection pool, so every web process shares
them). Today the console's login throttle; the shopper API's limits (issue 11) join here."""
from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

FAILED_LOGINS = '10 per 15 minutes'  # per name and per address; only failed attempts count


def limiter_for(app) -> Limiter:
    """One Limiter per app (tests build several apps in one process, each on its own Redis)."""
    rt = app.extensions['pinke']
    return Limiter(get_remote_address, app=app, storage_uri='redis://', strategy='moving-window',
                   headers_enabled=True, storage_options={'connection_pool': rt.redis.connection_pool,
                                                          'key_prefix': f'{rt.settings.key_prefix}limits'})


def throttle_failed_logins(app, limiter: Limiter, endpoint: str) -> None:
    """Ten wrong passwords for one name, or from one address, and the login answers 429 for a while
    (even with the right password: the attacker must not learn when they guessed it)."""
    view = app.view_functions[endpoint]
    for key in (login_name, get_remote_address):
        view = limiter.limit(FAILED_LOGINS, key_func=key, methods=['POST'],
                             deduct_when=lambda response: response.status_code == 401)(view)
    app.view_functions[endpoint] = view


def login_name() -> str:
    return 'name:' + (request.form.get('name') or '').strip().lower()[:64]
