"""The official account through wechatpy, pointed at WeChat or the sandbox like gateways/wechat.py:
H5 OAuth, the JS-SDK signature, parametric QR codes, follower profiles and mini-program cards.

Every WeChat failure becomes a domain error (WeChatUnavailable) or OAuthFailed, never a raw
wechatpy or requests exception, so callers decide what the person sees.
"""
import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import quote

import requests
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException
from wechatpy.oauth import WeChatOAuth
from wechatpy.session.redisstorage import RedisStorage

from groupbuy import errors

from .wechat import BaseUrlWeChatClient

TIMEOUT_S = 10
log = logging.getLogger(__name__)


def make_oa_client(settings, redis) -> BaseUrlWeChatClient:
    """The official account's API client; its access token and jsapi ticket are cached in Redis."""
    storage = RedisStorage(redis, prefix=f'{settings.key_prefix}wechatpy')
    return BaseUrlWeChatClient(settings.wechat_oa_app_id, settings.wechat_oa_app_secret, session=storage,
                               timeout=TIMEOUT_S, base_url=settings.wechat_api_base_url)


class BaseUrlOAuth(WeChatOAuth):
    """WeChatOAuth with our base URLs and a timeout (wechatpy sends its requests without one)."""

    def __init__(self, settings, redirect_uri: str = '', scope: str = 'snsapi_base', state: str = ''):
        super().__init__(settings.wechat_oa_app_id, settings.wechat_oa_app_secret, redirect_uri, scope, state)
        self.API_BASE_URL = settings.wechat_api_base_url
        self.OAUTH_BASE_URL = settings.wechat_open_base_url

    def _request(self, method, url_or_endpoint, **kwargs):
        kwargs.setdefault('timeout', TIMEOUT_S)
        return super()._request(method, url_or_endpoint, **kwargs)


class OAuthFailed(Exception):
    """WeChat would not exchange the code (used, expired, forged) or could not be reached."""


@dataclass(frozen=True)
class OAuthIdentity:
    openid: str
    unionid: str | None
    scope: str
    nickname: str | None = None
    avatar_url: str | None = None


def authorize_url(settings, redirect_uri: str, scope: str, state: str) -> str:
    return BaseUrlOAuth(settings, redirect_uri, scope, state).authorize_url


def exchange_code(settings, code: str) -> OAuthIdentity:
    """Who came back from WeChat's authorize page (and their profile, for snsapi_userinfo)."""
    oauth = BaseUrlOAuth(settings)
    try:
        token = oauth.fetch_access_token(code)
        profile = oauth.get_user_info() if token.get('scope') == 'snsapi_userinfo' else {}
    except (WeChatOAuthException, requests.RequestException, ValueError, KeyError) as exc:
        raise OAuthFailed(f'{type(exc).__name__}: {exc}') from exc
    return OAuthIdentity(openid=token['openid'], unionid=profile.get('unionid') or token.get('unionid'),
                         scope=token.get('scope', 'snsapi_base'), nickname=profile.get('nickname'),
                         avatar_url=profile.get('headimgurl'))


def jssdk_config(client, page_url: str) -> dict | None:
    """`wx.config` fields for this exact page URL (no #fragment), or None if WeChat is unreachable:
    the page then works without the rich share card."""
    try:
        ticket = client.jsapi.get_jsapi_ticket()  # cached in the client's Redis session
    except (WeChatClientException, requests.RequestException, KeyError) as exc:
        log.warning('no jsapi ticket, the page shares as a plain link: %s', exc)
        return None
    nonce, timestamp = secrets.token_hex(8), int(time.time())
    return {'appId': client.appid, 'timestamp': timestamp, 'nonceStr': nonce,
            'signature': client.jsapi.get_jsapi_signature(nonce, ticket, timestamp, page_url.split('#')[0])}


def create_scene_qrcode(settings, client, scene: str, expire_s: int) -> dict:
    """A temporary parametric QR code whose scan (or follow) pushes `scene` to the bot.
    `show_url` is the picture: wechatpy's qrcode.show is hard-wired to WeChat, so we build it."""
    data = {'expire_seconds': expire_s, 'action_name': 'QR_STR_SCENE',
            'action_info': {'scene': {'scene_str': scene}}}
    result = _call(client.qrcode.create, data)
    ticket = result['ticket']
    return {'ticket': ticket, 'url': result.get('url'), 'expire_seconds': result.get('expire_seconds'),
            'show_url': f'{settings.wechat_mp_base_url}cgi-bin/showqrcode?ticket={quote(ticket, safe="")}'}


def follower_unionid(client, oa_openid: str) -> str | None:
    """A follower's unionid (None if WeChat does not give one: not bound to an open platform)."""
    return _call(client.user.get, oa_openid).get('unionid') or None


def upload_thumb(client, png: bytes) -> str:
    """Upload a card thumbnail as temporary media (kept 3 days by WeChat). Returns its media_id."""
    return _call(client.media.upload, 'image', ('card.png', png, 'image/png'))['media_id']


def send_miniprogram_card(client, oa_openid: str, title: str, miniapp_id: str, path: str, media_id: str) -> None:
    _call(client.message.send_mini_program_page, oa_openid,
          {'title': title, 'appid': miniapp_id, 'pagepath': path, 'thumb_media_id': media_id})


def _call(fn, *args):
    try:
        return fn(*args)
    except WeChatClientException as exc:
        raise errors.WeChatUnavailable(f'WeChat refused: {exc.errcode} {exc.errmsg}', errcode=exc.errcode)
    except requests.RequestException as exc:
        raise errors.WeChatUnavailable(f'WeChat could not be reached: {type(exc).__name__}')
