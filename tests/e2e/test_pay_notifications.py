"""WeChat Pay notifications as they really arrive: twice, out of order, late, or forged."""
import secrets

import pytest
import xmltodict
from wechatpy.pay.utils import calculate_signature, dict_to_xml

from tools.http_client import wait_until
from wechat_sandbox.credentials import DEFAULT_API_KEY, DEFAULT_APP_ID, DEFAULT_MCH_ID

pytestmark = pytest.mark.e2e


def code(name):
    return f'{name}-{secrets.token_hex(4)}'


def notification(out_trade_no, total_fee, key=DEFAULT_API_KEY, **fields):
    """A payment notification as WeChat sends it, signed with `key`."""
    data = {'appid': DEFAULT_APP_ID, 'mch_id': DEFAULT_MCH_ID, 'nonce_str': secrets.token_hex(8),
            'return_code': 'SUCCESS', 'result_code': 'SUCCESS', 'openid': 'o-someone', 'trade_type': 'JSAPI',
            'bank_type': 'OTHERS', 'total_fee': str(total_fee), 'cash_fee': str(total_fee), 'fee_type': 'CNY',
            'transaction_id': '42000' + secrets.token_hex(10), 'out_trade_no': out_trade_no,
            'time_end': '20261125120000'}
    data.update(fields)
    return dict_to_xml(data, calculate_signature(data, key))


def post_notify(stack, xml):
    r = stack.http.post(f'{stack.api}/api/pay/notify', data=xml.encode(), headers={'Content-Type': 'text/xml'})
    return r.status_code, xmltodict.parse(r.text)['xml']['return_code']


def test_a_replayed_notification_is_acknowledged_and_changes_nothing(stack, audit):
    campaign = stack.new_campaign(group_size=3)
    _, share = stack.open_formed_group(campaign['id'], code('leader'))
    member = stack.login(code('m'))
    joined = stack.join(member, share).json()
    stack.confirm(joined)
    wait_until(lambda: stack.group(share)['paid_count'] == 2, what='paid')
    out_trade_no = joined['order']['out_trade_no']
    for _ in range(3):
        replay = stack.http.post(f'{stack.sandbox}/sandbox/notify/replay', json={'out_trade_no': out_trade_no})
        assert replay.status_code == 200 and 'SUCCESS' in replay.text, replay.text
    group = stack.group(share)
    assert group['paid_count'] == 2 and group['status'] == 'forming'
    assert stack.order(member, joined['order']['id'])['status'] == 'paid'
    assert audit().returncode == 0


def test_notifications_in_any_order_fill_the_group_exactly_once(stack, audit):
    campaign = stack.new_campaign(group_size=3)
    _, share = stack.open_formed_group(campaign['id'], code('leader'))
    first, second = stack.login(code('a')), stack.login(code('b'))
    a = stack.join(first, share).json()
    b = stack.join(second, share).json()
    stack.confirm(b)  # the second joiner's payment lands first
    wait_until(lambda: stack.group(share)['paid_count'] == 2, what='b paid')
    stack.confirm(a)
    wait_until(lambda: stack.group(share)['status'] == 'succeeded', what='succeeded')
    for order in (a, b):  # stale duplicates after success
        stack.http.post(f'{stack.sandbox}/sandbox/notify/replay', json={'out_trade_no': order['order']['out_trade_no']})
    assert stack.order(first, a['order']['id'])['status'] == 'fulfilled'
    assert stack.order(second, b['order']['id'])['status'] == 'fulfilled'
    assert stack.order(second, b['order']['id'])['refund'] is None
    assert audit().returncode == 0


def test_forged_or_mismatched_notifications_are_rejected_without_a_state_change(stack):
    campaign = stack.new_campaign(group_size=3)
    _, share = stack.open_formed_group(campaign['id'], code('leader'))
    member = stack.login(code('m'))
    joined = stack.join(member, share).json()
    out_trade_no, amount = joined['order']['out_trade_no'], joined['order']['amount_fen']
    forged = [
        notification(out_trade_no, amount, key='not-the-merchant-key-0123456789ab'),  # bad signature
        notification(out_trade_no, 1),  # right signature, wrong amount
        notification(out_trade_no, amount, appid='wx_someone_else'),  # another app's payment
        notification(out_trade_no, amount, mch_id='1234567890'),  # another merchant
        notification('PK-no-such-order', amount),  # unknown order
        '<xml><not-closed>',  # not even XML
    ]
    for xml in forged:
        assert post_notify(stack, xml) == (400, 'FAIL'), xml
    assert stack.order(member, joined['order']['id'])['status'] == 'created'
    assert stack.group(share)['paid_count'] == 1


def test_a_payment_made_after_its_seat_is_gone_is_refunded(stack, audit):
    """WeChat cannot be asked when the 3 s pay window ends (orderquery and closeorder fail), so the seat
    is released and someone else takes it; WeChat's order is still payable (time_expire is at least a
    minute out) and the first joiner pays late: the money goes back (`late_payment`)."""
    campaign = stack.new_campaign(group_size=2)
    _, share = stack.open_formed_group(campaign['id'], code('leader'))
    late, prompt = stack.login(code('late')), stack.login(code('prompt'))
    held = stack.join(late, share).json()
    for api in ('orderquery', 'closeorder'):
        answer = stack.http.post(f'{stack.sandbox}/sandbox/pay/fail-next',
                                 json={'api': api, 'count': 2, 'err_code': 'SYSTEMERROR'})
        assert answer.status_code == 200, answer.text
    wait_until(lambda: stack.order(late, held['order']['id'])['status'] == 'closed', timeout=10, what='released')
    taken = stack.join(prompt, share).json()
    stack.confirm(taken)
    wait_until(lambda: stack.group(share)['status'] == 'succeeded', what='succeeded with the freed seat')
    assert stack.confirm(held).status_code == 200  # the payer was still on WeChat's cashier
    order = wait_until(lambda: (o := stack.order(late, held['order']['id']))['status'] == 'refunded' and o,
                       timeout=15, what='late payment refunded')
    assert order['refund']['reason'] == 'late_payment' and order['refund']['amount_fen'] == 9900
    assert stack.group(share)['paid_count'] == 2
    assert stack.call('GET', '/api/me/courses', late).json()['courses'] == []
    assert audit().returncode == 0
