"""The core group-buy flow over real HTTP: web, worker, scheduler and the WeChat sandbox."""
import secrets

import pytest

from tools.http_client import wait_until

pytestmark = pytest.mark.e2e


def code(name: str) -> str:
    return f'{name}-{secrets.token_hex(4)}'


def test_three_people_fill_a_group_and_all_are_enrolled(stack, audit):
    campaign = stack.new_campaign(group_size=3, leader_price_fen=8900)
    leader = stack.login(code('leader'))
    opened = stack.open_group(leader, campaign['id'])
    assert opened['order']['amount_fen'] == 8900
    assert opened['pay_params']['package'].startswith('prepay_id=')
    assert set(opened['pay_params']) >= {'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'}
    assert stack.confirm(opened).status_code == 200
    share = opened['group']['share_code']
    wait_until(lambda: stack.group(share)['status'] == 'forming', what='forming')
    members = [stack.login(code('m')) for _ in range(2)]
    for token in members:
        r = stack.join(token, share)
        assert r.status_code == 201, r.text
        assert r.json()['order']['amount_fen'] == 9900
        assert stack.confirm(r.json()).status_code == 200
    group = wait_until(lambda: (g := stack.group(share))['status'] == 'succeeded' and g, what='succeeded')
    assert group['paid_count'] == 3 and [m['role'] for m in group['members']] == ['leader', 'member', 'member']
    for token in [leader, *members]:
        courses = stack.call('GET', '/api/me/courses', token).json()['courses']
        assert [c['id'] for c in courses] == [campaign['course']['id']]
        orders = stack.call('GET', '/api/me/orders', token).json()['orders']
        assert [o['status'] for o in orders] == ['fulfilled']
    assert audit().returncode == 0


def test_group_short_at_its_deadline_is_failed_and_both_payers_refunded(stack, audit):
    campaign = stack.new_campaign(group_size=3, duration_s=3)
    leader, share = stack.open_formed_group(campaign['id'], code('leader'))
    member = stack.login(code('m'))
    joined = stack.join(member, share).json()
    stack.confirm(joined)
    wait_until(lambda: stack.group(share)['paid_count'] == 2, what='two paid')
    wait_until(lambda: stack.group(share)['status'] == 'failed', timeout=10, what='failed at the deadline')
    order = wait_until(lambda: (o := stack.order(member, joined['order']['id']))['status'] == 'refunded' and o,
                       timeout=15, what='member refunded')
    assert order['refund']['amount_fen'] == 9900 and order['refund']['reason'] == 'group_failed'
    leader_orders = stack.call('GET', '/api/me/orders', leader).json()['orders']
    wait_until(lambda: stack.call('GET', '/api/me/orders', leader).json()['orders'][0]['status'] == 'refunded',
               what='leader refunded')
    refunds = stack.http.get(f'{stack.sandbox}/sandbox/refunds',
                             params={'out_trade_no': leader_orders[0]['out_trade_no']}).json()
    assert len(refunds['refunds']) == 1, refunds
    assert stack.call('GET', '/api/me/courses', member).json()['courses'] == []
    result = audit()
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unpaid_seat_returns_to_the_group_when_its_pay_window_ends(stack, audit):
    campaign = stack.new_campaign(group_size=2)
    _, share = stack.open_formed_group(campaign['id'], code('leader'))
    slow, eager = stack.login(code('slow')), stack.login(code('eager'))
    held = stack.join(slow, share)
    assert held.status_code == 201
    blocked = stack.join(eager, share)
    assert blocked.status_code == 409 and blocked.json()['error']['code'] == 'group_full'
    wait_until(lambda: stack.order(slow, held.json()['order']['id'])['status'] == 'closed',
               timeout=10, what='seat released after the 3 s pay window')
    late_try = stack.confirm(held.json())
    assert late_try.status_code == 409  # the order was closed at WeChat too
    joined = stack.join(eager, share)
    assert joined.status_code == 201, joined.text
    stack.confirm(joined.json())
    wait_until(lambda: stack.group(share)['status'] == 'succeeded', what='succeeded with the freed seat')
    assert audit().returncode == 0
