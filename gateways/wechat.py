"""wechatpy, pointed at WeChat or at the sandbox by base URL (see WECHAT_NOTES.md).

The app talks to WeChat only through these objects; the domain sees them through the ports in
`groupbuy.ports` and never imports wechatpy. WeChat Pay (the PaymentGateway) is in wechat_pay.py.
"""
import logging

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

log = logging.getLogger(__name__)

# WeChat's answers for an access token it no longer takes: invalid or replaced (40001), malformed (40014),
# past its 2 hours (42001).
TOKEN_REFUSED = (40001, 40014, 42001)


class BaseUrlWeChatClient(WeChatClient):
    """WeChatClient whose token URL follows API_BASE_URL (wechatpy hard-codes api.weixin.qq.com), and
    which renews a refused access token once per call: wechatpy's own auto_retry fetches and retries
    for as long as WeChat refuses, a loop that also keeps replacing the token every other process
    shares through Redis."""

    def __init__(self, *args, base_url: str, **kwargs):
        self.API_BASE_URL = base_url + 'cgi-bin/'
        self._root_url = base_url
        super().__init__(*args, auto_retry=False, **kwargs)
        self.wxa.API_BASE_URL = base_url

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self._root_url + 'cgi-bin/token',
            params={'grant_type': 'client_credential', 'appid': self.appid, 'secret': self.secret})

    def _request(self, method, url_or_endpoint, **kwargs):
        params = kwargs.setdefault('params', {})
        try:
            return super()._request(method, url_or_endpoint, **kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_REFUSED or not isinstance(params, dict):
                raise
            log.info('WeChat refused the access token (%s): renewing it and retrying once', exc.errcode)
            params['access_token'] = self._renewed_token(params.get('access_token'))
            return super()._request(method, url_or_endpoint, **kwargs)

    def _renewed_token(self, refused: str | None) -> str:
        """The token to retry with: one another process already put in the shared storage, else a new
        one (WeChat keeps the previous token working 5 more minutes, so others' calls in flight pass)."""
        stored = self.session.get(self.access_token_key)
        if stored and stored != refused:
            return stored
        self.fetch_access_token()
        return self.session.get(self.access_token_key)


def make_client(settings, redis) -> WeChatClient:
    storage = RedisStorage(redis, prefix=f'{settings.key_prefix}wechatpy')
    return BaseUrlWeChatClient(settings.wechat_app_id, settings.wechat_app_secret,
                               session=storage, timeout=10, base_url=settings.wechat_api_base_url)


# code2Session's answers about the code itself: the client must call wx.login for a new one.
CODE_REJECTED = {40029: 'the login code is invalid or expired', 40163: 'the login code was used already',
                 41008: 'the login code is missing'}
USER_BLOCKED = 40226  # WeChat's risk control refuses this user ("high-risk user")


class LoginFailed(Exception):
    """WeChat did not turn a wx.login code into a session. `reason` says what the client can do:
    'code' — the code is spent, expired or forged: call wx.login again; 'blocked' — WeChat refuses
    this user (40226): retrying will not help; 'unavailable' — WeChat is busy (-1), rate-limits us
    (45011), refused our credentials or could not be reached: try again shortly."""

    def __init__(self, errcode, message: str, reason: str):
        super().__init__(message)
        self.errcode = errcode
        self.reason = reason


def code_to_session(client: WeChatClient, code: str) -> dict:
    """{openid, session_key, unionid?} for a wx.login code (no unionid when the mini-program is not bound to
    an open-platform account). Raises LoginFailed."""
    try:
        return client.wxa.code_to_session(code)
    except WeChatClientException as exc:
        if exc.errcode in CODE_REJECTED:
            raise LoginFailed(exc.errcode, CODE_REJECTED[exc.errcode], 'code') from exc
        if exc.errcode == USER_BLOCKED:
            raise LoginFailed(exc.errcode, 'WeChat blocked this sign-in (a high-risk account)', 'blocked') from exc
        raise LoginFailed(exc.errcode, f'WeChat did not answer the login ({exc.errcode} {exc.errmsg})',
                          'unavailable') from exc
    except requests.RequestException as exc:
        raise LoginFailed(None, f'WeChat could not be reached: {type(exc).__name__}', 'unavailable') from exc
