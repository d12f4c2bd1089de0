"""Who is using the console, and what they may do.

Every console page is behind `console_blueprint`: a signed-in operator (the `pinke_console` cookie names a
server-side session, groupbuy/operators.py), a CSRF token on every request that changes something (the
session's synchronizer token, in a form field or the `X-CSRF-Token` header; Flask-WTF would keep it in
Flask's cookie session, which the H5 pages use for shoppers), and `needs(permission)` for the role.
"""
import functools
import hmac

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from groupbuy import errors, operators

from miniapp_api.runtime import runtime as rt

COOKIE = 'pinke_console'
SAFE_METHODS = ('GET', 'HEAD', 'OPTIONS')


def console_blueprint(name: str, import_name: str, *, public: bool = False) -> Blueprint:
    """A blueprint under /admin whose pages need a signed-in operator (unless `public`: the login page)
    and answer errors with an HTML page, not the API's JSON."""
    bp = Blueprint(name, import_name, url_prefix='/admin')
    if not public:
        bp.before_request(_signed_in)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(errors.DomainError, _domain_error)
    bp.after_request(_guarded)
    return bp


def _guarded(response):
    """Console pages hold personal data and take actions: never cached, never framed, never sniffed."""
    response.headers['Cache-Control'] = 'no-store'
    response.headers['X-Frame-Options'] = 'DENY'
    response.headers['Content-Security-Policy'] = "frame-ancestors 'none'"
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response


TITLES = {400: '请求有误', 401: '请先登录', 403: '没有权限', 404: '找不到', 405: '不支持的操作', 409: '现在不能这样做',
          429: '尝试太频繁'}


def _http_error(exc: HTTPException):
    status = exc.code or 500
    text = exc.description if status in (400, 403) else {
        401: '登录已过期，请重新登录。', 404: '找不到这个页面或对象。',
        429: '失败次数太多，请过一会儿再试。'}.get(status, '请求未能完成。')
    return render_template('console/message.html', title=TITLES.get(status, '出错了'), text=text), status


def _domain_error(exc: errors.DomainError):
    status = 404 if isinstance(exc, errors.NotFound) else 409 if isinstance(
        exc, (errors.InvalidTransition, errors.CampaignNotActive)) else 403 if isinstance(exc, errors.Forbidden) else 400
    return render_template('console/message.html', title=TITLES[status], text=exc.message), status


def _signed_in():
    session = operators.session_for(request.cookies.get(COOKIE), rt().deps.now())
    if session is None:
        if request.method in SAFE_METHODS:
            return redirect(url_for('console_login.login', next=request.full_path.rstrip('?')))
        abort(401)
    g.console_session, g.operator = session, session.operator
    if request.method not in SAFE_METHODS:
        sent = request.form.get('csrf_token') or request.headers.get('X-CSRF-Token') or ''
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            abort(400, 'the form is missing its CSRF token: reload the page and try again')
    return None


def needs(permission: str):
    """403 unless the signed-in operator's role may do `permission` (groupbuy.operators.PERMISSIONS)."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not operators.can(g.operator.role, permission):
                abort(403, f'your role ({g.operator.role}) cannot do this')
            return view(*args, **kwargs)
        return wrapper
    return decorate


def log_action(action: str, target: str, before: dict | None = None, after: dict | None = None) -> None:
    operators.record_action(g.operator, action, target, rt().deps.now(), before, after)


def cookie_options() -> dict:
    """HttpOnly, SameSite=Strict, only the console's path; Secure over HTTPS (the request, or the public
    origin behind a proxy that ends TLS)."""
    secure = request.is_secure or rt().settings.public_base_url.startswith('https://')
    return {'httponly': True, 'samesite': 'Strict', 'secure': secure, 'path': '/admin'}
