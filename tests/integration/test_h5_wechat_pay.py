"""The H5 group page in WeChat's browser joins and pays through the official account's appid (one merchant, two
bound appids), over HTTP: the app served on a free port, H5 OAuth and WeChat Pay played by this module's sandbox.

The page's person is signed in by official-account OAuth; their join is the mini-program's join (one API, one domain
path) with `pay_via: official_account`, so WeChat makes the order for the official account's appid and openid; every
later call on the order (orderquery, closeorder, refund, refundquery) carries that appid, and its notifications come
back under it."""
import json
import os
import re
import secrets

import pytest
import requests
from wechatpy.pay.utils import calculate_signature, dict_to_xml

from groupbuy import accounts, groups, identity, refunds, settlement
from groupbuy.models import Order, Refund, Seat
from miniapp_api.auth import issue_token
from tests.support import builders
from tests.support.sandbox_server import running_sandbox, serve
from tools.http_client import Api, wait_until
from wechat_sandbox.credentials import DEFAULT_API_KEY, DEFAULT_APP_ID, DEFAULT_MCH_ID, DEFAULT_OA_APP_ID
from wechat_sandbox.login import openid_for

WECHAT_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.47 NetType/WIFI'
ADMIN = 'adm_' + secrets.token_hex(8)


@pytest.fixture(scope='module')
def sandbox():
    with running_sandbox({'SANDBOX_NOTIFY_RETRY_S': '0.2,0.5,1', 'SANDBOX_REFUND_DELAY_S': 0.05}) as (_, base):
        yield base


class _Later:
    """A WSGI app set after the server started (the app needs the server's URL to be built)."""
    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture
def pinke(sandbox, clean_db, database, redis_url, key_prefix, tmp_path, clock):
    """The app served over HTTP on the sandbox (WeChat's notifications reach it), on the test's clock: an Api."""
    from groupbuy.models import db
    from wsgi import create_app
    requests.post(sandbox + '/sandbox/reset', timeout=5)
    later = _Later()
    server, base = serve(later)
    later.app = create_app({
        'database_url': os.environ.get('DATABASE_URL') or f'sqlite:///{database.database}',
        'redis_url': redis_url, 'data_dir': str(tmp_path), 'key_prefix': key_prefix, 'secret_key': 'k' * 32,
        'admin_token': ADMIN, 'quiet_hours': '', 'public_base_url': base, 'wechat_api_base_url': sandbox + '/',
        'wechat_pay_base_url': sandbox + '/', 'wechat_open_base_url': sandbox + '/connect/',
        'wechat_mp_base_url': sandbox + '/'})
    later.app.extensions['pinke'].deps.clock = clock
    api = Api(base, sandbox, ADMIN)
    api.deps = later.app.extensions['pinke'].deps
    try:
        yield api
    finally:
        server.shutdown()
        later.app.extensions['pinke'].database.close()
        db.initialize(database)  # the app bound the models to its own connection; give them back


def signed_in_in_wechat(pinke, share: str, name: str) -> requests.Session:
    """A phone in WeChat's browser that opened the group's link and came back from the official account's OAuth
    (silent, then the profile on 我要参团) as test user `name`, on the page that joins and pays."""
    phone = requests.Session()
    phone.headers['User-Agent'] = WECHAT_UA
    for path in (f'/g/{share}', f'/g/{share}?join=1'):
        to_wechat = phone.get(pinke.api + path, allow_redirects=False, timeout=10)
        assert to_wechat.status_code == 302 and to_wechat.headers['Location'].startswith(pinke.sandbox + '/connect/')
        back = requests.get(to_wechat.headers['Location'], params={'user': name}, allow_redirects=False, timeout=5)
        assert phone.get(back.headers['Location'], allow_redirects=False, timeout=10).status_code == 302
    return phone


def page_config(page: requests.Response) -> dict:
    found = re.search(r'<script id="pinke-config" type="application/json">(.*?)</script>', page.text, re.S)
    return json.loads(found.group(1))


def h5_join(pinke, share: str, name: str) -> tuple[dict, str]:
    """(the join's checkout, the H5 user's token): the page's config, then the API the page calls."""
    phone = signed_in_in_wechat(pinke, share, name)
    page = phone.get(f'{pinke.api}/g/{share}?join=1&asked=1', timeout=10)
    assert '微信支付参团' in page.text and 'weixin-jsbridge' not in page.text  # the bridge is WeChat's, never ours
    config = page_config(page)
    assert config['payVia'] == 'official_account' and config['token']
    joined = pinke.call('POST', f'/api/groups/{share}/join', config['token'], json={'pay_via': config['payVia']})
    assert joined.status_code == 201, joined.text
    return joined.json(), config['token']


def cashier(pinke, name: str, params: dict) -> requests.Response:
    return requests.post(pinke.sandbox + '/sandbox/pay/jsapi', json={'user': name, **params}, timeout=5)


def sandbox_order(pinke, out_trade_no: str) -> dict:
    return requests.get(f'{pinke.sandbox}/sandbox/orders/{out_trade_no}', timeout=5).json()


def test_the_h5_join_in_wechat_makes_an_official_account_order_that_pays_and_fills_the_group(pinke):
    campaign = pinke.new_campaign(group_size=2)
    _, share = pinke.open_formed_group(campaign['id'], f'lea.{secrets.token_hex(3)}')
    checkout, token = h5_join(pinke, share, 'ivy')
    params = checkout['pay_params']
    assert params['appId'] == DEFAULT_OA_APP_ID and params['signType'] == 'MD5' and params['paySign']
    assert checkout['order']['amount_fen'] == 9900  # the server's price, as for the mini-program
    order = Order.get_by_id(checkout['order']['id'])
    at_wechat = sandbox_order(pinke, order.out_trade_no)
    assert (order.pay_appid, at_wechat['appid']) == (DEFAULT_OA_APP_ID, DEFAULT_OA_APP_ID)
    assert at_wechat['openid'] == openid_for(DEFAULT_OA_APP_ID, 'ivy') == order.user.oa_openid
    paid = cashier(pinke, 'ivy', params)
    assert paid.status_code == 200 and paid.json()['errMsg'] == 'requestPayment:ok'
    group = wait_until(lambda: (g := pinke.group(share, token))['status'] == 'succeeded' and g, timeout=10,
                       what='the group to succeed')
    assert group['paid_count'] == 2 and group['my_seat']['status'] == 'paid'
    assert Order.get_by_id(order.id).transaction_id == paid.json()['transaction_id']


def test_a_forged_pay_sign_leaves_the_order_unpaid_and_the_seat_only_held(pinke):
    campaign = pinke.new_campaign(group_size=2)
    _, share = pinke.open_formed_group(campaign['id'], f'lea.{secrets.token_hex(3)}')
    checkout, _ = h5_join(pinke, share, 'jay')
    forged = dict(checkout['pay_params'], paySign='F' * 32)
    answer = cashier(pinke, 'jay', forged)
    assert (answer.status_code, answer.json()['code']) == (400, 'pay_sign_invalid')
    order = Order.get_by_id(checkout['order']['id'])
    assert order.status == 'created' and order.transaction_id is None
    assert sandbox_order(pinke, order.out_trade_no)['status'] == 'NOTPAY'
    assert requests.get(pinke.sandbox + '/sandbox/deliveries', params={'out_trade_no': order.out_trade_no},
                        timeout=5).json()['deliveries'] == []
    assert Seat.get(Seat.order == order.id).status == 'reserved'
    assert pinke.group(share)['status'] == 'forming'


def test_joining_through_the_official_account_without_its_sign_in_is_refused(pinke):
    campaign = pinke.new_campaign(group_size=2)
    _, share = pinke.open_formed_group(campaign['id'], f'lea.{secrets.token_hex(3)}')
    mini_only = pinke.login(f'kim.{secrets.token_hex(3)}')  # the mini-program's person: no official-account openid
    answer = pinke.call('POST', f'/api/groups/{share}/join', mini_only, json={'pay_via': 'official_account'})
    assert (answer.status_code, answer.json()['error']['code']) == (400, 'invalid_input')
    assert pinke.call('POST', f'/api/groups/{share}/join', mini_only, json={'pay_via': 'alipay'}).status_code == 400
    assert pinke.group(share)['reserved_count'] == 0  # nothing held for a refused join
    mini = pinke.call('POST', f'/api/groups/{share}/join', mini_only)  # the mini-program's own door still works
    assert mini.status_code == 201 and mini.json()['pay_params']['appId'] == DEFAULT_APP_ID


def test_a_released_official_account_order_is_asked_about_and_closed_under_its_appid(pinke, clock):
    campaign = pinke.new_campaign(group_size=3)
    _, share = pinke.open_formed_group(campaign['id'], f'lea.{secrets.token_hex(3)}')
    checkout, _ = h5_join(pinke, share, 'lou')
    order = Order.get_by_id(checkout['order']['id'])
    clock.advance(pinke.deps.pay_window_s + 1)
    assert settlement.release_seat(pinke.deps, Seat.get(Seat.order == order.id).id)
    at_wechat = sandbox_order(pinke, order.out_trade_no)
    assert (at_wechat['status'], at_wechat['closed_by']) == ('CLOSED', 'closeorder')  # not ORDERNOTEXIST: its appid
    assert Order.get_by_id(order.id).status == 'closed'


def test_a_failed_groups_official_account_payment_is_refunded_and_confirmed_under_its_appid(pinke, clock):
    campaign = pinke.new_campaign(group_size=3, duration_s=600)
    _, share = pinke.open_formed_group(campaign['id'], f'lea.{secrets.token_hex(3)}')
    checkout, _ = h5_join(pinke, share, 'max')
    assert cashier(pinke, 'max', checkout['pay_params']).status_code == 200
    order_id = checkout['order']['id']
    wait_until(lambda: Order.get_by_id(order_id).status == 'paid', timeout=10, what='the payment recorded')
    clock.advance(601)
    group_id = Order.get_by_id(order_id).group_id
    assert settlement.settle_group(pinke.deps, group_id) == 'failed'
    assert refunds.refund_order(pinke.deps, order_id) == 'submitted'
    out_trade_no = Order.get_by_id(order_id).out_trade_no
    [at_wechat] = requests.get(pinke.sandbox + '/sandbox/refunds', params={'out_trade_no': out_trade_no},
                               timeout=5).json()['refunds']
    assert at_wechat['appid'] == DEFAULT_OA_APP_ID and at_wechat['refund_fee'] == 9900
    wait_until(lambda: Refund.get(Refund.order == order_id).status == 'succeeded', timeout=10,
               what='the refund notification, under the official account appid, accepted')
    assert Order.get_by_id(order_id).status == 'refunded'
    Refund.update(status='submitted').where(Refund.order == order_id).execute()  # as if its notice were lost
    assert refunds.check_refund(pinke.deps, order_id) == 'refunded'  # refundquery under its appid found it


@pytest.mark.parametrize('oa_pay_on', [True, False])
def test_the_page_pays_in_wechat_only_while_the_official_accounts_appid_is_bound_to_the_merchant(
        on_sandbox, oa_pay_on):
    """WECHAT_OA_PAY=0 (the appid not bound yet): the page offers 我要参团 and the mini-program, and a join through
    the official account is a 502; bound (the default), a signed-in person with a profile gets the pay button."""
    app = on_sandbox(wechat_oa_pay=oa_pay_on)
    deps = app.extensions['pinke'].deps
    assert (app.extensions['pinke'].oa_pay is not None) is oa_pay_on
    opened = groups.open_group(deps, builders.user(), builders.campaign(group_size=2).id, '127.0.0.1')
    builders.pay(deps, opened.order)
    viewer = identity.sign_in_official_account(deps, openid_for(DEFAULT_OA_APP_ID, 'nia')).user
    viewer = accounts.adopt_wechat_profile(viewer, 'nia', 'http://127.0.0.1/sandbox/avatars/nia.png')
    client = app.test_client()
    with app.test_request_context():
        token = issue_token(viewer)
    with client.session_transaction() as session:
        session['h5_uid'] = token
    page = client.get(f'/g/{opened.group.share_code}', headers={'User-Agent': WECHAT_UA})
    assert page.status_code == 200
    assert page_config(page)['payVia'] == ('official_account' if oa_pay_on else None)
    assert ('微信支付参团' in page.text, '我要参团' in page.text) == (oa_pay_on, not oa_pay_on)
    joined = client.post(f'/api/groups/{opened.group.share_code}/join', json={'pay_via': 'official_account'},
                         headers={'Authorization': f'Bearer {token}'})
    assert joined.status_code == (201 if oa_pay_on else 502)


def notification(order, appid: str) -> str:
    """A payment notification for `order` as WeChat signs it (the API key), under `appid`."""
    fields = {'appid': appid, 'mch_id': DEFAULT_MCH_ID, 'nonce_str': secrets.token_hex(8), 'return_code': 'SUCCESS',
              'result_code': 'SUCCESS', 'openid': 'o-payer', 'trade_type': 'JSAPI', 'bank_type': 'OTHERS',
              'total_fee': str(order.amount_fen), 'cash_fee': str(order.amount_fen), 'fee_type': 'CNY',
              'transaction_id': '4200000' + secrets.token_hex(8), 'out_trade_no': order.out_trade_no,
              'time_end': '20261127120000'}
    return dict_to_xml(fields, calculate_signature(fields, DEFAULT_API_KEY))


def test_a_payment_notification_under_either_of_our_appids_is_taken_and_under_a_third_refused(on_sandbox):
    app = on_sandbox()
    deps = app.extensions['pinke'].deps
    client = app.test_client()
    for appid, accepted in (('wx00000000000000ff', False), (DEFAULT_OA_APP_ID, True)):
        opened = groups.open_group(deps, builders.user(), builders.campaign().id, '127.0.0.1')
        answer = client.post('/api/pay/notify', data=notification(opened.order, appid), content_type='text/xml')
        assert (answer.status_code, '<return_code><![CDATA[SUCCESS]]>' in answer.text) == \
            ((200, True) if accepted else (400, False)), appid
        assert Order.get_by_id(opened.order.id).status == ('paid' if accepted else 'created')
