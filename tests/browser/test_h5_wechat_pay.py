"""The H5 group page inside WeChat's browser (Chromium with WeChat's user agent) joins and pays right there: the
official account's OAuth through the sandbox, the join, getBrandWCPayRequest through the sandbox's WeixinJSBridge
(injected by the test, as WeChat's client brings its own; the cashier checks paySign), and the group succeeds."""
import secrets

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import PHONE
from tools.http_client import wait_until
from wechat_sandbox.credentials import DEFAULT_OA_APP_ID
from wechat_sandbox.login import openid_for

pytestmark = pytest.mark.e2e
WECHAT_UA = ('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) '
             'Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN')


def name(prefix: str) -> str:
    return f'{prefix}-{secrets.token_hex(4)}'


@pytest.fixture
def in_wechat(browser, stack):
    """`in_wechat(user, **bridge)`: a phone-sized page in WeChat's browser whose WeixinJSBridge is the sandbox's,
    paying as test `user` (`bridge`: the script's other options, e.g. outcome='cancel')."""
    contexts = []

    def open_page(user: str, **bridge):
        script = requests.get(stack.sandbox + '/sandbox/weixin-jsbridge.js', params={'user': user, **bridge},
                              timeout=10)
        assert script.status_code == 200, script.text
        context = browser.new_context(**{**PHONE, 'user_agent': WECHAT_UA}, locale='zh-CN')
        context.add_init_script(script=script.text)
        contexts.append(context)
        return context.new_page()
    yield open_page
    for context in contexts:
        context.close()


def authorize_as(page, user: str) -> None:
    """WeChat's authorize page (the sandbox asks which test user is browsing): allow, as `user`."""
    page.wait_for_selector('input[name="user"]')
    page.fill('input[name="user"]', user)
    page.click('button:not([name="deny"])')


def landed_on(page, url: str) -> None:
    """Wait until the page is `url` (WeChat's authorize URL ends in #wechat_redirect, and a browser keeps a
    fragment across redirects)."""
    try:
        page.wait_for_url(lambda at: at.split('#')[0] == url)
    except PlaywrightTimeout:  # say where it stopped instead (a CI run once stood still here)
        raise AssertionError(f'expected {url}; the page is at {page.url}: {page.content()[:500]}') from None


def signed_in_on_the_group(stack, page, share: str, user: str, shot) -> None:
    """Open the shared link: silent OAuth, then 我要参团 asks for the profile once; back on the group, ready to pay."""
    page.goto(f'{stack.api}/g/{share}')
    assert page.url.startswith(stack.sandbox + '/connect/oauth2/authorize?') and 'snsapi_base' in page.url
    authorize_as(page, user)
    landed_on(page, f'{stack.api}/g/{share}')
    page.click('a.join[href*="join=1"]')  # 我要参团
    assert 'snsapi_userinfo' in page.url
    shot(page, 'h5-wechat-1-authorize')
    authorize_as(page, user)
    landed_on(page, f'{stack.api}/g/{share}?join=1&asked=1')
    page.wait_for_function('window.pinkePage && window.pinkePage.source.readyState === 1')


def test_the_h5_page_in_wechat_logs_in_joins_pays_through_the_bridge_and_the_group_succeeds(
        stack, in_wechat, shot):
    campaign = stack.new_campaign(group_size=2)
    _, share = stack.open_formed_group(campaign['id'], name('leader'))
    user = name('wxh5')
    page = in_wechat(user, ready_ms=300)
    signed_in_on_the_group(stack, page, share, user, shot)
    assert page.inner_text('#join-button') == '¥99 微信支付参团' and page.is_visible('#join-button')
    assert page.locator('script[src*="weixin-jsbridge"]').count() == 0  # the app never brings the bridge
    shot(page, 'h5-wechat-2-join')
    page.click('#join-button')
    page.wait_for_function('document.body.dataset.state === "succeeded"', timeout=10_000)
    assert user in page.inner_text('#members') and page.is_visible('#state-succeeded')
    page.wait_for_function('(b => b.offsetWidth === b.parentNode.clientWidth)(document.getElementById("progress-bar"))')
    shot(page, 'h5-wechat-3-succeeded')
    [paid] = page.evaluate('window.WeixinJSBridge.payments')  # what the sandbox's cashier answered the bridge
    assert paid['errMsg'] == 'requestPayment:ok'
    order = requests.get(f'{stack.sandbox}/sandbox/orders/{paid["out_trade_no"]}', timeout=10).json()
    assert (order['appid'], order['openid'], order['status']) == \
        (DEFAULT_OA_APP_ID, openid_for(DEFAULT_OA_APP_ID, user), 'SUCCESS')
    group = stack.group(share)
    assert group['status'] == 'succeeded' and group['paid_count'] == 2


def test_closing_the_wechat_pay_sheet_leaves_the_seat_held_and_says_so(stack, in_wechat, shot):
    campaign = stack.new_campaign(group_size=3)
    _, share = stack.open_formed_group(campaign['id'], name('leader'))
    user = name('wxno')
    page = in_wechat(user, outcome='cancel')
    signed_in_on_the_group(stack, page, share, user, shot)
    page.click('#join-button')
    page.wait_for_selector('#notice:not([hidden])')
    assert page.inner_text('#notice') == '已取消支付'
    assert page.evaluate('window.WeixinJSBridge.payments.length') == 0  # nothing reached the cashier
    shot(page, 'h5-wechat-cancelled')
    group = stack.group(share)
    assert group['status'] == 'forming' and group['paid_count'] == 1
    [order] = stack.call('GET', '/api/me/orders', page.evaluate('Pinke.cfg.token')).json()['orders']
    at_wechat = f'{stack.sandbox}/sandbox/orders/{order["out_trade_no"]}'
    assert requests.get(at_wechat, timeout=10).json()['appid'] == DEFAULT_OA_APP_ID
    # the pay window ends: the worker asks WeChat (orderquery) and closes the order (closeorder) under its appid
    closed = wait_until(lambda: (o := requests.get(at_wechat, timeout=10).json())['status'] == 'CLOSED' and o,
                        timeout=30, what='the unpaid order closed at WeChat')
    assert closed['closed_by'] == 'closeorder'
