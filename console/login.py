"""Signing in and out of the console. The login form has no session yet, so its CSRF token is a
double-submit cookie (SameSite=Strict) matched by a hidden field."""
import hmac
import logging
import re
import secrets

from flask import g, make_response, redirect, render_template, request, url_for

from groupbuy import operators
from miniapp_api.runtime import runtime as rt

from .session import COOKIE, cookie_options, console_blueprint

LOGIN_CSRF = 'pinke_console_login'
SAFE_NEXT = re.compile(r'^/admin(/[A-Za-z0-9_./?=&%-]*)?$')  # a console path; no //, \\, spaces or CR/LF
log = logging.getLogger(__name__)
bp = console_blueprint('console_login', __name__, public=True)
signed_in = console_blueprint('console_logout', __name__)


@bp.get('/login')
def login():
    token = secrets.token_urlsafe(24)
    response = make_response(render_template('console/login.html', csrf_token=token, next=_next(), error=None))
    response.set_cookie(LOGIN_CSRF, token, max_age=1800, **cookie_options())
    return response


@bp.post('/login')
def sign_in():
    sent, kept = request.form.get('csrf_token', ''), request.cookies.get(LOGIN_CSRF, '')
    if not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
        return render_template('console/login.html', csrf_token=kept, next=_next(),
                               error='页面已过期，请刷新后重新登录'), 400
    name = request.form.get('name', '').strip()
    operator = operators.authenticate(name, request.form.get('password', ''))
    if operator is not None and operator.name in operators.DEMO and not rt().settings.uses_sandbox:
        operator = None  # the sandbox's demo accounts never open a console on real WeChat
    if operator is None:
        log.warning('console sign-in refused for %r from %s', name[:64], request.remote_addr)
        return render_template('console/login.html', csrf_token=kept, next=_next(), error='账号或密码不对'), 401
    now = rt().deps.now()
    operators.end_session(request.cookies.get(COOKIE), now)  # signing in again ends the session this browser had
    token, _ = operators.start_session(operator, now)
    operators.record_action(operator, 'sign_in', f'operator:{operator.id}', now, after={'ip': request.remote_addr})
    response = redirect(_next())
    response.set_cookie(COOKIE, token, **cookie_options())  # a browser-session cookie; the server ends it too
    response.delete_cookie(LOGIN_CSRF, path='/admin')
    return response


@signed_in.post('/logout')
def sign_out():
    now = rt().deps.now()
    operators.end_session(request.cookies.get(COOKIE), now)
    operators.record_action(g.operator, 'sign_out', f'operator:{g.operator.id}', now)
    response = redirect(url_for('console_login.login'))
    response.delete_cookie(COOKIE, path='/admin')
    return response


def _next() -> str:
    """Where to go after signing in: a console path only (never another site, nothing a header cannot hold)."""
    target = request.values.get('next') or '/admin/'
    return target if SAFE_NEXT.match(target) else '/admin/'
