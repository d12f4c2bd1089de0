"""The official account's pay door (H5 JSAPI in WeChat's browser), read with an attacker's eyes: notifications
replayed or moved between our two appids, joins that try to pay as someone else or for less, the door closed while
its orders still hold money, recoveries and merges across the two appids, the audit, and the cashier's strictness.

The app runs in this process (its test client) on the real database and Redis; WeChat is the sandbox on a loopback
port (tests/integration/conftest.py). The app's public URL is served by nobody, so WeChat's own notifications never
arrive: every notification here is one a test builds (as WeChat signs or encrypts it) or none at all (a lost one)."""
import re
import secrets
import types
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature_hmac, dict_to_xml

from groupbuy import accounts, groups, identity, payments, refunds, settlement, sweeper
from groupbuy.account_merge import merge_users
from groupbuy.audit import audit
from groupbuy.models import Order, Refund, Seat, User
from groupbuy.ports import OFFICIAL_ACCOUNT
from groupbuy.risk import blocklist
from miniapp_api.auth import issue_token
from tests.support import builders
from tools.http_client import wait_until
from wechat_sandbox import payloads
from wechat_sandbox.credentials import DEFAULT_API_KEY, DEFAULT_APP_ID, DEFAULT_MCH_ID, DEFAULT_OA_APP_ID
from wechat_sandbox.ids import CST
from wechat_sandbox.login import openid_for

ROOT = Path(__file__).resolve().parents[2]
WECHAT_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.47 NetType/WIFI'
WECHAT = types.SimpleNamespace(mch_id=DEFAULT_MCH_ID, api_key=DEFAULT_API_KEY)  # what signs and encrypts


@pytest.fixture
def sandbox(sandbox_port):
    return f'http://127.0.0.1:{sandbox_port}'


@pytest.fixture
def app(on_sandbox):
    return on_sandbox()


def deps_of(app):
    return app.extensions['pinke'].deps


def name(prefix: str) -> str:
    return f'{prefix}-{secrets.token_hex(3)}'


def oa_person(deps, who: str) -> User:
    """Someone H5 OAuth signed in: their official-account openid, with a profile."""
    user = identity.sign_in_official_account(deps, openid_for(DEFAULT_OA_APP_ID, who)).user
    return accounts.adopt_wechat_profile(user, who, f'http://127.0.0.1/sandbox/avatars/{who}.png')


def token(app, user: User) -> str:
    with app.test_request_context():
        return issue_token(user)


def formed_group(deps, size: int = 3, **terms):
    """A group whose leader paid: open for members."""
    opened = groups.open_group(deps, builders.user(), builders.campaign(group_size=size, **terms).id, '127.0.0.1')
    builders.pay(deps, opened.order)
    return opened


def join(app, user: User, share_code: str, **body):
    return app.test_client().post(f'/api/groups/{share_code}/join', json=body,
                                  headers={'Authorization': f'Bearer {token(app, user)}'})


def cashier(sandbox, who: str, params: dict) -> requests.Response:
    return requests.post(sandbox + '/sandbox/pay/jsapi', json={'user': who, **params}, timeout=5)


def at_wechat(sandbox, out_trade_no: str) -> dict:
    return requests.get(f'{sandbox}/sandbox/orders/{out_trade_no}', timeout=5).json()


def oa_paid_member(app, sandbox, **terms):
    """(group, the member's order): someone joined a formed group through the official account and paid at
    WeChat's cashier; WeChat's notification has not reached us (nobody serves the app's public URL)."""
    deps = deps_of(app)
    opened = formed_group(deps, **terms)
    who = name('oa')
    checkout = groups.join_group(deps, oa_person(deps, who), opened.group.share_code, '127.0.0.1',
                                 door=OFFICIAL_ACCOUNT)
    assert cashier(sandbox, who, checkout.pay_params).status_code == 200
    return opened.group, Order.get_by_id(checkout.order.id)


def payment_notification(sandbox, order: Order) -> str:
    """WeChat's payment notification for `order` as it paid at the sandbox (signed with the API key)."""
    return payloads.payment_notify(at_wechat(sandbox, order.out_trade_no), WECHAT)


def notify(app, path: str, body) -> tuple[int, str]:
    answer = app.test_client().post(path, data=body, content_type='text/xml')
    return answer.status_code, re.search(r'<return_code><!\[CDATA\[(\w+)', answer.text).group(1)


def refund_notification(order: Order, refund: Refund, appid: str, **inner) -> str:
    """WeChat's refund notification: the refund's details encrypted with the API key into req_info; `appid`
    outside it, unsigned, as WeChat sends it."""
    fields = {'out_refund_no': refund.out_refund_no, 'out_trade_no': order.out_trade_no,
              'refund_id': refund.refund_id, 'transaction_id': order.transaction_id, 'total_fee': order.amount_fen,
              'refund_fee': refund.amount_fen, 'refund_status': 'SUCCESS', 'success_time': '2026-11-27 12:00:00',
              **inner}
    root = ''.join(f'<{k}>{v}</{k}>' for k, v in fields.items())
    return dict_to_xml({'return_code': 'SUCCESS', 'appid': appid, 'mch_id': DEFAULT_MCH_ID,
                        'nonce_str': secrets.token_hex(8),
                        'req_info': payloads.encrypt_req_info(f'<root>{root}</root>', DEFAULT_API_KEY)})


def failed_and_refund_submitted(deps, clock, group, order: Order) -> Refund:
    """The group misses its deadline; the member's refund is submitted to WeChat."""
    clock.advance(group.duration_s + 1)
    assert settlement.settle_group(deps, group.id) == 'failed'
    assert refunds.refund_order(deps, order.id) == 'submitted'
    return Refund.get(Refund.order == order.id)


# --- notifications moved between our two appids ------------------------------------------------------
def test_a_payment_notification_moved_to_the_other_appid_is_refused_and_a_replay_pays_once(app, sandbox):
    group, order = oa_paid_member(app, sandbox)
    genuine = payment_notification(sandbox, order)
    assert f'<appid><![CDATA[{DEFAULT_OA_APP_ID}]]></appid>' in genuine
    moved = genuine.replace(DEFAULT_OA_APP_ID, DEFAULT_APP_ID)  # the signature covers the appid
    assert notify(app, '/api/pay/notify', moved) == (400, 'FAIL')
    assert Order.get_by_id(order.id).status == 'created'
    assert notify(app, '/api/pay/notify', genuine) == (200, 'SUCCESS')
    assert notify(app, '/api/pay/notify', genuine) == (200, 'SUCCESS')  # WeChat's retry, or a replay
    paid = Order.get_by_id(order.id)
    assert (paid.status, paid.transaction_id) == ('paid', at_wechat(sandbox, order.out_trade_no)['transaction_id'])
    assert Seat.select().where(Seat.group == group.id, Seat.status == 'paid').count() == 2


def test_a_refund_notice_counts_only_under_its_orders_appid_and_for_its_own_order(app, sandbox, clock):
    """req_info carries no appid and both appids share the key that encrypts it: the appid outside it (unsigned)
    and the out_trade_no inside it must be the refund's order's."""
    deps = deps_of(app)
    group, order = oa_paid_member(app, sandbox, duration_s=600)
    assert notify(app, '/api/pay/notify', payment_notification(sandbox, order)) == (200, 'SUCCESS')
    order = Order.get_by_id(order.id)
    refund = failed_and_refund_submitted(deps, clock, group, order)
    leader_order = Order.get(Order.group == group.id, Order.id != order.id)
    for forged in (refund_notification(order, refund, DEFAULT_APP_ID),  # the mini-program's client decrypts it too
                   refund_notification(order, refund, DEFAULT_OA_APP_ID, out_trade_no=leader_order.out_trade_no)):
        assert notify(app, '/api/pay/refund-notify', forged) == (400, 'FAIL')
        assert Refund.get_by_id(refund.id).status == 'submitted' and Order.get_by_id(order.id).status == 'refunding'
    assert notify(app, '/api/pay/refund-notify', refund_notification(order, refund, DEFAULT_OA_APP_ID)) == \
        (200, 'SUCCESS')
    assert (Refund.get_by_id(refund.id).status, Order.get_by_id(order.id).status) == ('succeeded', 'refunded')


# --- who may ask for which door, and what pay_via cannot change ---------------------------------------
def test_the_official_account_door_orders_only_for_the_callers_own_openid_which_only_they_can_pay(app, sandbox):
    deps = deps_of(app)
    opened = formed_group(deps, size=4)
    share = opened.group.share_code
    ivy, eve = name('ivy'), name('eve')
    ivy_user = oa_person(deps, ivy)
    named = join(app, ivy_user, share, pay_via='official_account', openid=openid_for(DEFAULT_OA_APP_ID, eve))
    assert (named.status_code, named.json['error']['code']) == (400, 'unknown_fields')
    joined = join(app, ivy_user, share, pay_via='official_account')
    assert joined.status_code == 201
    order = Order.get_by_id(joined.json['order']['id'])
    assert at_wechat(sandbox, order.out_trade_no)['openid'] == openid_for(DEFAULT_OA_APP_ID, ivy)
    params = joined.json['pay_params']
    assert cashier(sandbox, eve, params).json()['code'] == 'user_mismatch'  # another person cannot pay it
    # A mini-program token may ask for this door too (a token is a token): the order is still its holder's own,
    # and the mini-program's wx.requestPayment (its own appId over fields signed for the official account's) fails.
    both = User.create(openid=openid_for(DEFAULT_APP_ID, 'kit'), oa_openid=openid_for(DEFAULT_OA_APP_ID, 'kit'))
    from_mini = join(app, both, share, pay_via='official_account')
    assert from_mini.status_code == 201 and from_mini.json['pay_params']['appId'] == DEFAULT_OA_APP_ID
    assert at_wechat(sandbox, Order.get_by_id(from_mini.json['order']['id']).out_trade_no)['openid'] == \
        openid_for(DEFAULT_OA_APP_ID, 'kit')
    in_the_mini_program = dict(from_mini.json['pay_params'], appId=DEFAULT_APP_ID)
    assert cashier(sandbox, 'kit', in_the_mini_program).json()['code'] == 'pay_sign_invalid'
    assert Order.get_by_id(from_mini.json['order']['id']).status == 'created'


def test_pay_via_changes_neither_the_price_nor_the_one_payment_per_course_rule(app):
    deps = deps_of(app)
    first = formed_group(deps, size=4)
    second_same_course = groups.open_group(deps, builders.user(), builders.campaign(
        course_id=first.group.campaign.course_id, group_size=4).id, '127.0.0.1')
    builders.pay(deps, second_same_course.order)
    priced = join(app, oa_person(deps, name('fay')), first.group.share_code, pay_via='official_account',
                  amount_fen=1)
    assert (priced.status_code, priced.json['error']['code']) == (400, 'unknown_fields')
    oa_user, mini_user = oa_person(deps, name('gus')), builders.user()
    through_oa = join(app, oa_user, first.group.share_code, pay_via='official_account')
    through_mini = join(app, mini_user, first.group.share_code)
    assert through_oa.json['order']['amount_fen'] == through_mini.json['order']['amount_fen'] == \
        first.group.price_fen == 9900
    oa_user.openid = openid_for(DEFAULT_APP_ID, name('gus'))  # the same person in the mini-program (merged)
    oa_user.save()
    again = join(app, oa_user, second_same_course.group.share_code)  # the other door, the same course
    assert (again.status_code, again.json['error']['code']) == (409, 'already_buying')
    again = join(app, mini_user, second_same_course.group.share_code, pay_via='official_account')
    assert (again.status_code, again.json['error']['code']) == (409, 'already_buying')
    assert Seat.select().where(Seat.group == second_same_course.group.id, Seat.status == 'reserved').count() == 0


def test_the_join_rate_limit_and_a_risk_block_hold_whichever_door_is_asked(on_sandbox, clock):
    app = on_sandbox(rate_limit_join='1 per minute')
    deps = deps_of(app)
    person = oa_person(deps, name('hal'))
    person.openid = openid_for(DEFAULT_APP_ID, name('hal'))
    person.save()
    assert join(app, person, formed_group(deps).group.share_code, pay_via='official_account').status_code == 201
    assert join(app, person, formed_group(deps).group.share_code).status_code == 429  # one bucket, both doors
    blocked = oa_person(deps, name('ned'))
    blocklist.add('user', str(blocked.id), 'test', clock.now(), 'test')
    refused = join(app, blocked, formed_group(deps).group.share_code, pay_via='official_account')
    assert (refused.status_code, refused.json['error']['code']) == (403, 'not_allowed')


# --- the door closed while its orders still hold money ------------------------------------------------
def test_closing_the_official_account_door_keeps_its_orders_notified_refunded_and_audited(
        on_sandbox, sandbox, clock):
    """WECHAT_OA_PAY=0 stops new orders through the official account; the orders made under its appid before still
    get their notifications accepted, and their refunds, queries and closes made, under that appid."""
    group, order = oa_paid_member(on_sandbox(), sandbox, duration_s=600)
    closed = on_sandbox(wechat_oa_pay=False)
    assert notify(closed, '/api/pay/notify', payment_notification(sandbox, order)) == (200, 'SUCCESS')
    assert Order.get_by_id(order.id).status == 'paid'
    newcomer = join(closed, oa_person(deps_of(closed), name('ola')), group.share_code, pay_via='official_account')
    assert newcomer.status_code == 502  # no new orders through the closed door
    refund = failed_and_refund_submitted(deps_of(closed), clock, group, Order.get_by_id(order.id))
    [at_wechat_refund] = requests.get(sandbox + '/sandbox/refunds', params={'out_trade_no': order.out_trade_no},
                                      timeout=5).json()['refunds']
    assert (at_wechat_refund['appid'], at_wechat_refund['out_refund_no']) == (DEFAULT_OA_APP_ID, refund.out_refund_no)
    result = closed.test_cli_runner().invoke(args=['audit', '--grace', '600'])
    assert result.exit_code == 0, result.output


# --- recoveries, merges and the audit across the two appids -------------------------------------------
def test_a_lost_payment_notification_of_an_official_account_order_is_found_by_the_sweeper(app, sandbox, clock):
    deps = deps_of(app)
    group, order = oa_paid_member(app, sandbox)
    clock.advance(deps.pay_window_s + 1)
    assert sweeper.sweep(deps)['seats'] == 1
    seat = Seat.get(Seat.order == order.id)
    assert settlement.release_seat(deps, seat.id) is False  # orderquery under its appid: paid in time, kept
    paid = Order.get_by_id(order.id)
    assert (paid.status, Seat.get_by_id(seat.id).status) == ('paid', 'paid')
    assert paid.transaction_id == at_wechat(sandbox, order.out_trade_no)['transaction_id']


def test_an_overdue_official_account_refund_is_asked_about_under_its_appid_by_the_sweeper(app, sandbox, clock):
    deps = deps_of(app)
    group, order = oa_paid_member(app, sandbox, duration_s=600)
    payments.record_payment(deps, payments.PaymentNotice(order.out_trade_no, at_wechat(sandbox, order.out_trade_no)
                                                         ['transaction_id'], order.amount_fen))
    refund = failed_and_refund_submitted(deps, clock, group, Order.get_by_id(order.id))
    wait_until(lambda: requests.get(sandbox + '/sandbox/refunds', params={'out_trade_no': order.out_trade_no},
                                    timeout=5).json()['refunds'][0]['status'] == 'SUCCESS', timeout=10,
               what='WeChat to finish the refund (its notification never reaches us)')
    clock.advance(601)
    assert sweeper.sweep(deps, refund_overdue_s=600)['refund_checks'] == 1
    assert refunds.check_refund(deps, order.id) == 'refunded'  # refundquery under the official account's appid
    assert (Refund.get_by_id(refund.id).status, Order.get_by_id(order.id).status) == ('succeeded', 'refunded')


def test_merging_two_accounts_refunds_the_doubly_bought_course_under_the_appid_it_was_paid_with(app, sandbox):
    """One person, unknown as such (no unionid yet), bought a course in the mini-program and again in WeChat's
    browser; when WeChat ties them, the mini-program account is kept and the other order goes back through the
    official account's appid."""
    deps = deps_of(app)
    who = name('pat')
    mini_group = formed_group(deps, size=2)
    course = mini_group.group.campaign.course_id
    oa_group = groups.open_group(deps, builders.user(), builders.campaign(course_id=course, group_size=2).id,
                                 '127.0.0.1')
    builders.pay(deps, oa_group.order)
    mini_user = identity.sign_in_miniapp(deps, openid_for(DEFAULT_APP_ID, who)).user
    oa_user = oa_person(deps, who)
    bought = []
    for user, group, door in ((mini_user, mini_group.group, 'miniapp'), (oa_user, oa_group.group, OFFICIAL_ACCOUNT)):
        checkout = groups.join_group(deps, user, group.share_code, '127.0.0.1', door=door)
        assert cashier(sandbox, who, checkout.pay_params).status_code == 200
        order = Order.get_by_id(checkout.order.id)
        assert payments.record_payment(deps, payments.PaymentNotice(
            order.out_trade_no, at_wechat(sandbox, order.out_trade_no)['transaction_id'], order.amount_fen)) == \
            'group_succeeded'
        bought.append(Order.get_by_id(order.id))
    assert [o.pay_appid for o in bought] == [DEFAULT_APP_ID, DEFAULT_OA_APP_ID]
    kept = merge_users(deps, oa_user.id, mini_user.id)
    assert kept.id == mini_user.id and kept.oa_openid == openid_for(DEFAULT_OA_APP_ID, who)
    assert [Order.get_by_id(o.id).status for o in bought] == ['fulfilled', 'refunding']
    assert refunds.refund_order(deps, bought[1].id) == 'submitted'
    [back] = requests.get(sandbox + '/sandbox/refunds', params={'out_trade_no': bought[1].out_trade_no},
                          timeout=5).json()['refunds']
    assert (back['appid'], back['refund_fee']) == (DEFAULT_OA_APP_ID, bought[1].amount_fen)


def test_the_audit_names_an_order_still_at_wechat_under_an_appid_that_is_not_ours(deps, clock, make_app):
    ours = (DEFAULT_APP_ID, DEFAULT_OA_APP_ID)  # the appids the recording gateway makes orders under
    opened = formed_group(deps)
    joined = groups.join_group(deps, builders.user(), opened.group.share_code, '127.0.0.1')
    assert audit(clock.now(), grace_s=0, pay_appids=ours) == []
    Order.update(pay_appid='wx00000000000000ff').where(Order.id == opened.order.id).execute()
    Order.update(pay_appid=None).where(Order.id == joined.order.id).execute()  # from before appids were kept
    assert audit(clock.now(), grace_s=0) == []  # no appids given, none judged
    found = audit(clock.now(), grace_s=0, pay_appids=ours)
    assert [(o.rule, o.subject) for o in found] == [('pay_appid_unknown', f'order {opened.order.id}')]
    result = make_app().test_cli_runner().invoke(args=['audit', '--grace', '600'])
    assert result.exit_code == 1 and 'pay_appid_unknown' in result.output and 'wx00000000000000ff' in result.output


# --- the cashier, as strict as WeChat's -----------------------------------------------------------------
def test_the_cashier_refuses_fields_signed_with_another_sign_type_than_the_orders_unifiedorder(sandbox):
    """WeChat: wx.requestPayment's / getBrandWCPayRequest's signType must be the unifiedorder's sign_type."""
    oa_pay = WeChatPay(DEFAULT_OA_APP_ID, DEFAULT_API_KEY, DEFAULT_MCH_ID)
    oa_pay.API_BASE_URL = sandbox + '/'

    def order(**sign_type):
        out_trade_no = 'S' + uuid.uuid4().hex[:20]
        return out_trade_no, oa_pay.order.create(
            trade_type='JSAPI', body='Python 入门', total_fee=9900, notify_url='http://127.0.0.1:9/pay',
            client_ip='127.0.0.1', user_id=openid_for(DEFAULT_OA_APP_ID, 'alice'), out_trade_no=out_trade_no,
            time_expire=datetime.now(CST) + timedelta(minutes=5), **sign_type)['prepay_id']

    md5_order, md5_prepay = order()
    hmac_fields = {'appId': DEFAULT_OA_APP_ID, 'timeStamp': '1700000000', 'nonceStr': uuid.uuid4().hex,
                   'package': f'prepay_id={md5_prepay}', 'signType': 'HMAC-SHA256'}
    hmac_fields['paySign'] = calculate_signature_hmac(hmac_fields, DEFAULT_API_KEY)  # the right key, the wrong kind
    hmac_order, hmac_prepay = order(sign_type='HMAC-SHA256')
    for out_trade_no, fields in ((md5_order, hmac_fields), (hmac_order, oa_pay.jsapi.get_jsapi_params(hmac_prepay))):
        answer = cashier(sandbox, 'alice', fields)
        assert (answer.status_code, answer.json()['code']) == (400, 'pay_sign_invalid')
        assert at_wechat(sandbox, out_trade_no)['status'] == 'NOTPAY'
    assert cashier(sandbox, 'alice', oa_pay.jsapi.get_jsapi_params(md5_prepay)).status_code == 200


# --- the bridge is WeChat's, never ours -----------------------------------------------------------------
def test_the_app_never_serves_nor_brings_the_sandboxs_weixin_jsbridge(app):
    assert not [r.rule for r in app.url_map.iter_rules() if 'jsbridge' in r.rule or 'pay/jsapi' in r.rule]
    assert app.test_client().get('/sandbox/weixin-jsbridge.js').status_code == 404
    shipped = [p for folder in ('miniapp_api/templates', 'miniapp_api/static', 'console')
               for p in (ROOT / folder).rglob('*') if p.suffix in ('.html', '.js')]
    assert shipped
    for path in shipped:
        text = path.read_text(encoding='utf-8')
        assert 'weixin-jsbridge' not in text and '/sandbox/pay/jsapi' not in text, path
        assert not re.search(r"createElement\(\s*['\"]script", text), f'{path} injects scripts'
    deps = deps_of(app)
    opened = formed_group(deps)
    viewer = oa_person(deps, name('uma'))
    client = app.test_client()
    with client.session_transaction() as session:
        session['h5_uid'] = token(app, viewer)
    page = client.get(f'/g/{opened.group.share_code}', headers={'User-Agent': WECHAT_UA})
    assert page.status_code == 200 and '微信支付参团' in page.text
    assert 'jsbridge' not in page.text.lower() and 'pay/jsapi' not in page.text
