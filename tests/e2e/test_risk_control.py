"""Risk control against the running system, over real HTTP (issue 11): a farm of accounts on one phone cannot
fill a group, and a seat squatter cannot take a seat again after an unpaid pay window."""
import secrets

import pytest

from tests.support.timing import bound
from tools.http_client import wait_until

pytestmark = pytest.mark.e2e


def phone() -> dict:
    return {'X-Pinke-Device': 'e2e-' + secrets.token_hex(10)}


def join(stack, token, share, device):
    return stack.call('POST', f'/api/groups/{share}/join', token, headers=device)


def test_five_accounts_on_one_phone_cannot_fill_a_group(stack):
    campaign = stack.new_campaign(group_size=5)
    farm = phone()
    leader = stack.login(f'farmer-{secrets.token_hex(3)}')
    opened = stack.call('POST', '/api/groups', leader, json={'campaign_id': campaign['id']}, headers=farm).json()
    stack.confirm(opened)
    share = opened['group']['share_code']
    wait_until(lambda: stack.group(share)['status'] == 'forming', timeout=bound(10), what='forming')
    answers = [join(stack, stack.login(f'farm-{n}-{secrets.token_hex(3)}'), share, farm) for n in range(4)]
    assert [a.status_code for a in answers] == [403] * 4
    assert {a.json()['error']['code'] for a in answers} == {'not_allowed'}
    friend = join(stack, stack.login(f'friend-{secrets.token_hex(3)}'), share, phone())
    assert friend.status_code == 201  # a real friend on their own phone still joins
    assert stack.group(share)['paid_count'] == 1


def test_a_squatter_cannot_take_the_seat_again_after_an_unpaid_pay_window(stack):
    campaign = stack.new_campaign(group_size=2)
    _, share = stack.open_formed_group(campaign['id'], f'lead-{secrets.token_hex(3)}')
    squatter, device = stack.login(f'squat-{secrets.token_hex(3)}'), phone()
    assert join(stack, squatter, share, device).status_code == 201
    wait_until(lambda: stack.group(share)['reserved_count'] == 0, timeout=bound(20),
               what='the unpaid seat to be released')  # PAY_WINDOW_S is 3 s in the test system
    again = join(stack, squatter, share, device)
    assert (again.status_code, again.json()['error']['code']) == (403, 'not_allowed')
    buyer = stack.login(f'buyer-{secrets.token_hex(3)}')
    checkout = join(stack, buyer, share, phone())
    assert checkout.status_code == 201
    stack.confirm(checkout.json())
    wait_until(lambda: stack.group(share)['status'] == 'succeeded', timeout=bound(10), what='success')
