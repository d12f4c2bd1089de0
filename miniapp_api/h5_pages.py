"""The H5 share link `/g/<share_code>`: the page a friend opens from a link in a WeChat chat.

Inside WeChat's browser we learn who they are without a tap (silent OAuth, `snsapi_base`) and
ask for nickname and avatar (`snsapi_userinfo`) only when they want to join and we have none.
After the round trip they land back on the group, signed in by the session cookie. Outside
WeChat the page shows the mini-program code to scan. Pages are HTML; errors are HTML too.
"""
import hashlib
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, session

from gateways.wechat_oa import OAuthFailed, authorize_url, exchange_code, jssdk_config
from groupbuy import accounts, errors, identity, referrals, wording
from groupbuy.progress import progress_of
from posters import pictures

from . import oauth_state
from .auth import issue_token, user_for_token
from .group_page import group_page_context
from .runtime import runtime

bp = Blueprint('h5', __name__, template_folder='templates', static_folder='static',
               static_url_path='/h5static')
bp.add_app_template_filter(wording.yuan, 'yuan')  # 9900 → 99, as every other door writes prices
SESSION_USER, SESSION_NONCES = 'h5_uid', 'oauth_nonces'


def init_app(app) -> None:
    """The H5 session cookie: sent on WeChat's redirect back to us (a top-level GET), not cross-site,
    and only over HTTPS when the public origin is HTTPS. Written only by a response that changed it: with Flask's
    default every answer re-sends a signed-in (permanent) session as its request saw it, so a picture the page
    asked for before 我要参团 was tapped, answering after the trip to WeChat began, put back the cookie without
    that trip's nonce, and the person came back to 这个登录链接已失效."""
    app.config['SESSION_COOKIE_SAMESITE'] = app.config.get('SESSION_COOKIE_SAMESITE') or 'Lax'
    app.config['SESSION_REFRESH_EACH_REQUEST'] = False
    rt = app.extensions.get('pinke')
    if rt is not None and rt.settings.public_base_url.startswith('https://'):
        app.config['SESSION_COOKIE_SECURE'] = True


@bp.errorhandler(errors.DomainError)
def _domain_error(exc):
    status = 404 if isinstance(exc, errors.NotFound) else 502 if isinstance(exc, errors.WeChatUnavailable) else 400
    text = {404: '找不到这个拼团，链接可能有误。', 502: '微信暂时无法访问，请稍后再试。'}.get(status, '请求有误。')
    return _message(text, status)


@bp.errorhandler(429)
def _too_many(exc):
    """A rate limit (config/rate_limits.py, which also sets Retry-After): a page, like every other error here."""
    return _message('打开得太频繁了，请稍等一会儿再试。', 429)


def _message(text: str, status: int, link: str | None = None) -> tuple[str, int]:
    return render_template('h5_message.html', text=text, link=link), status


def _in_wechat() -> bool:
    return 'MicroMessenger' in request.headers.get('User-Agent', '')


def _viewer():
    """The session holds a user token, checked like a bearer token (revoked or merged away: sign in again)."""
    token = session.get(SESSION_USER)
    viewer = user_for_token(token) if isinstance(token, str) else None
    if viewer is None:
        session.pop(SESSION_USER, None)
    return viewer


def _authorize(rt, share_code: str, ref: str | None, scope: str, joining: bool):
    state = oauth_state.issue(rt.settings.secret_key, share_code, ref, scope, joining)
    session[SESSION_NONCES] = (session.get(SESSION_NONCES) or [])[-4:] + [state.nonce]
    back = f'{rt.settings.public_base_url}/g/oauth'
    return redirect(authorize_url(rt.settings, back, scope,
                                  oauth_state.encode(rt.settings.secret_key, state)), 302)


def _group_and_ref(rt, share_code: str):
    """The group's progress and the sharer's ref from `?from=` (dropped unless it is genuinely signed).
    Raises NotFound for a malformed or unknown share code."""
    if not oauth_state.SHARE_CODE.match(share_code):
        raise errors.NotFound('no such group')
    progress = progress_of(share_code)
    passed = request.args.get('from')
    return progress, passed if referrals.referrer_id(rt.settings.secret_key, passed) else None


@bp.get('/g/<share_code>')
def group_page(share_code: str):
    rt = runtime()
    progress, ref = _group_and_ref(rt, share_code)
    viewer, joining, in_wechat = _viewer(), request.args.get('join') == '1', _in_wechat()
    if in_wechat and rt.settings.wechat_oa_app_id:
        if viewer is None:
            return _authorize(rt, share_code, ref, 'snsapi_base', joining)
        if joining and accounts.needs_profile(viewer) and request.args.get('asked') != '1':
            return _authorize(rt, share_code, ref, 'snsapi_userinfo', joining)
    visitor = str(viewer.id) if viewer else hashlib.sha256(
        f'{request.remote_addr}|{request.user_agent.string}'.encode()).hexdigest()[:16]
    referrals.record_share_click(rt.deps, progress.group_id, progress.campaign_id, viewer.id if viewer else None,
                                 referrals.existing_referrer(rt.settings.secret_key, ref), 'h5', visitor)
    page_url = rt.settings.public_base_url + request.full_path.rstrip('?')
    jssdk = jssdk_config(rt.oa_client, page_url) if in_wechat and rt.settings.wechat_oa_app_id else None
    context = group_page_context(rt, share_code, viewer, ref, in_wechat=in_wechat, joining=joining,
                                 page_url=page_url, jssdk=jssdk)
    return render_template('group_page.html', **context)


@bp.get('/g/oauth')
def oauth_return():
    """WeChat sends the person back here with `code` (or without, when they declined userinfo)."""
    rt = runtime()
    try:
        state = oauth_state.redeem(rt.deps, rt.settings.secret_key, request.args.get('state', ''),
                                   session.get(SESSION_NONCES) or [])
    except oauth_state.InvalidState as exc:
        return _message(f'这个登录链接已失效（{exc}），请回到聊天里重新打开拼团链接。', 400)
    # Back to the group only (a share code, never a URL); `asked` stops a second userinfo prompt.
    query = {'from': state.ref, 'join': '1' if state.join else None,
             'asked': '1' if state.scope == 'snsapi_userinfo' else None}
    target = f'/g/{state.share_code}?' + urlencode({k: v for k, v in query.items() if v})
    code = request.args.get('code')
    if not code:  # they declined to share nickname and avatar: carry on without
        return redirect(rt.settings.public_base_url + target.rstrip('?'), 302)
    try:
        who = exchange_code(rt.settings, code)
    except OAuthFailed:
        return _message('微信登录没有成功，请重新打开拼团链接。', 400, link=target.rstrip('?'))
    referrer = referrals.existing_referrer(rt.settings.secret_key, state.ref)
    signed = identity.sign_in_official_account(rt.deps, who.openid, who.unionid, referrer, channel='h5',
                                               share_code=state.share_code)
    accounts.adopt_wechat_profile(signed.user, who.nickname, who.avatar_url)
    session[SESSION_USER] = issue_token(signed.user)
    session.permanent = True
    return redirect(rt.settings.public_base_url + target.rstrip('?'), 302)


@bp.get('/g/<share_code>/code.png')
def miniapp_code(share_code: str):
    """The group's mini-program code, for the page (scan it, or long-press it inside WeChat)."""
    rt = runtime()
    progress, ref = _group_and_ref(rt, share_code)
    return Response(pictures.wxa_code(rt, progress.share_code, ref), mimetype='image/png',
                    headers={'Cache-Control': 'public, max-age=3600'})
