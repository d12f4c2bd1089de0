"""Signing in and out of the console. The login form has no session yet, so its CSRF token is a
double-submit cookie (SameSite=Strict) matched by a hidden field."""
import hmac
import secrets

from flask import g, make_response, redirect, render_template, request, url_for

from groupbuy import operators
from miniapp_api.runtime import runtime as rt

from .session import COOKIE, cookie_options, console_blueprint

LOGIN_CSRF = 'pinke_console_login'
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
    operator = operators.authenticate(request.form.get('name', '').strip(), request.form.get('password', ''))
    if operator is None:
        return render_template('console/login.html', csrf_token=kept, next=_next(), error='账号或密码不对'), 401
    now = rt().deps.now()
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
    """Where to go after signing in: a console path only (never another site)."""
    target = request.values.get('next') or '/admin/'
    return target if target.startswith('/admin') and not target.startswith('//') else '/admin/'
