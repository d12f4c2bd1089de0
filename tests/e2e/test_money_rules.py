"""Money rules over real HTTP (issue 8 §2): a course is bought once across the campaigns that sell
it, and a payment made inside its pay window keeps its seat when its notification is late."""
import secrets

import pytest

from tools.http_client import wait_until

pytestmark = pytest.mark.e2e


def name(prefix: str) -> str:
    return f'{prefix}-{secrets.token_hex(4)}'


def test_a_second_group_of_the_same_course_is_refused_with_a_clear_error(stack):
    """The demo's shape: one course sold by two campaigns."""
    first = stack.new_campaign(group_size=2, title='一门课')
    second = stack.admin('POST', '/campaigns', {'course_id': first['course']['id'], 'group_size': 2,
                                                'duration_s': 120, 'group_price_fen': 9900}).json()['campaign']
    buyer = stack.login(name('buyer'))
    stack.open_group(buyer, first['id'])
    _, share = stack.open_formed_group(second['id'], name('leader'))
    for answer in (stack.join(buyer, share),
                   stack.call('POST', '/api/groups', buyer, json={'campaign_id': second['id']})):
        assert answer.status_code == 409
        assert answer.json()['error']['code'] == 'already_buying'
    assert len(stack.call('GET', '/api/me/orders', buyer).json()['orders']) == 1


def test_a_payment_in_time_whose_notification_comes_after_the_window_keeps_its_seat(stack, audit):
    """The stack's pay window is 3 s; the payer pays at once, WeChat's notification is 6 s late. When
    the window ends the release asks WeChat (orderquery), finds the payment and seats it: the group
    fills, nobody is refunded, and the late notification changes nothing."""
    campaign = stack.new_campaign(group_size=2)
    _, share = stack.open_formed_group(campaign['id'], name('leader'))
    member = stack.login(name('member'))
    joined = stack.join(member, share).json()
    assert stack.confirm(joined, notify_delay_s=6).status_code == 200
    group = wait_until(lambda: (g := stack.group(share))['status'] == 'succeeded' and g, timeout=20,
                       what='succeeded before the notification arrived')
    assert group['paid_count'] == 2
    order = stack.order(member, joined['order']['id'])
    assert order['status'] == 'fulfilled' and not order.get('refund')
    out_trade_no = joined['order']['out_trade_no']
    wait_until(lambda: any(d['delivered'] for d in stack.http.get(
        f'{stack.sandbox}/sandbox/deliveries', params={'out_trade_no': out_trade_no}).json()['deliveries']),
        timeout=30, what='the late notification delivered')
    assert stack.order(member, joined['order']['id'])['status'] == 'fulfilled'
    assert stack.http.get(f'{stack.sandbox}/sandbox/refunds', params={'out_trade_no': out_trade_no}
                          ).json()['refunds'] == []
    result = audit()
    assert result.returncode == 0, result.stdout + result.stderr
