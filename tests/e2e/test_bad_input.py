"""Bad input gets a clear JSON error with the right status, and changes nothing."""
import secrets

import pytest

pytestmark = pytest.mark.e2e


def error_of(response):
    body = response.json()
    assert set(body) == {'error'} and {'code', 'message'} <= set(body['error']), body
    return response.status_code, body['error']['code']


@pytest.mark.parametrize('body', [
    {'course_id': 1, 'group_size': '3', 'duration_s': 60, 'group_price_fen': 100},       # wrong type
    {'course_id': 1, 'group_size': 3, 'duration_s': -5, 'group_price_fen': 100},         # negative
    {'course_id': 1, 'group_size': 3, 'duration_s': 60, 'group_price_fen': 10 ** 30},    # huge
    {'course_id': 1, 'group_size': 1, 'duration_s': 60, 'group_price_fen': 100},         # a group of one
    {'course_id': 1, 'group_size': True, 'duration_s': 60, 'group_price_fen': 100},      # bool for int
    {'group_size': 3, 'duration_s': 60, 'group_price_fen': 100},                          # missing field
])
def test_invalid_campaigns_are_refused_with_invalid_input(stack, body):
    before = len(stack.call('GET', '/api/campaigns').json()['campaigns'])
    assert error_of(stack.admin('POST', '/campaigns', body)) == (400, 'invalid_input')
    assert len(stack.call('GET', '/api/campaigns').json()['campaigns']) == before


def test_malformed_json_and_unknown_ids_get_clear_errors(stack):
    token = stack.login(f'u-{secrets.token_hex(4)}')
    raw = stack.call('POST', '/api/groups', token, data='{"campaign_id": ', headers={'Content-Type': 'application/json'})
    assert error_of(raw) == (400, 'invalid_input')
    assert error_of(stack.call('POST', '/api/groups', token, json=[1, 2])) == (400, 'invalid_input')
    assert error_of(stack.call('POST', '/api/groups', token, json={'campaign_id': 999999})) == (404, 'not_found')
    assert error_of(stack.call('POST', '/api/groups/nosuchcode/join', token)) == (404, 'not_found')
    assert error_of(stack.call('GET', '/api/groups/nosuchcode')) == (404, 'not_found')
    assert error_of(stack.call('GET', '/api/orders/999999', token)) == (404, 'not_found')
    assert error_of(stack.call('GET', '/api/nothing-here')) == (404, 'not_found')
    assert error_of(stack.admin('POST', '/campaigns', {'course_id': 999999, 'group_size': 3, 'duration_s': 60,
                                                       'group_price_fen': 100})) == (404, 'not_found')


def test_auth_is_required_and_checked(stack):
    assert error_of(stack.call('GET', '/api/me')) == (401, 'unauthorized')
    assert error_of(stack.call('GET', '/api/me', token='forged.token.value')) == (401, 'unauthorized')
    user = stack.login(f'u-{secrets.token_hex(4)}')
    assert error_of(stack.call('POST', '/admin/api/courses', user, json={'title': 'x', 'price_fen': 1})) == \
        (403, 'forbidden')
    assert error_of(stack.call('POST', '/admin/api/courses', json={'title': 'x', 'price_fen': 1})) == \
        (401, 'unauthorized')
    assert error_of(stack.call('POST', '/api/auth/wxlogin', json={'code': 'bad-code'})) == (401, 'unauthorized')


def test_someone_elses_order_is_forbidden(stack):
    campaign = stack.new_campaign()
    owner, other = stack.login(f'o-{secrets.token_hex(4)}'), stack.login(f'x-{secrets.token_hex(4)}')
    order_id = stack.open_group(owner, campaign['id'])['order']['id']
    assert error_of(stack.call('GET', f'/api/orders/{order_id}', other)) == (403, 'forbidden')


def test_client_sent_prices_are_refused_by_name(stack):
    campaign = stack.new_campaign(group_price_fen=9900)
    token = stack.login(f'p-{secrets.token_hex(4)}')
    r = stack.call('POST', '/api/groups', token, json={'campaign_id': campaign['id'], 'amount_fen': 1,
                                                       'price_fen': 1})
    assert error_of(r) == (400, 'unknown_fields')
    assert r.json()['error']['details']['unknown'] == ['amount_fen', 'price_fen']
    assert stack.call('GET', '/api/me/orders', token).json()['orders'] == []


def test_a_misspelt_campaign_field_creates_no_campaign(stack):
    course = stack.admin('POST', '/courses', {'title': '拼写', 'price_fen': 19900}).json()['course']
    before = len(stack.call('GET', '/api/campaigns').json()['campaigns'])
    r = stack.admin('POST', '/campaigns', {'course_id': course['id'], 'group_size': 3, 'duration_s': 60,
                                           'group_price_fen': 9900, 'leader_pirce_fen': 8900})
    assert error_of(r) == (400, 'unknown_fields') and 'leader_pirce_fen' in r.json()['error']['message']
    assert len(stack.call('GET', '/api/campaigns').json()['campaigns']) == before


def test_ids_beyond_what_the_database_holds_are_not_found(stack):
    beyond = 2 ** 63
    token = stack.login(f'i-{secrets.token_hex(4)}')
    assert error_of(stack.call('GET', f'/api/campaigns/{beyond}')) == (404, 'not_found')
    assert error_of(stack.call('GET', f'/api/orders/{beyond}', token)) == (404, 'not_found')
    assert error_of(stack.admin('GET', f'/broadcasts/{beyond}')) == (404, 'not_found')
    assert stack.call('GET', f'/c/{beyond}').status_code == 404
    assert error_of(stack.call('GET', f'/api/me/messages?before_id={beyond}', token)) == (400, 'invalid_input')
    assert error_of(stack.admin('POST', '/broadcasts', {'segment': {'type': 'users', 'user_ids': [beyond]},
                                                        'message': 'x'})) == (400, 'invalid_input')


def test_paused_campaign_takes_no_new_groups_and_ended_is_final(stack):
    campaign = stack.new_campaign()
    token = stack.login(f'c-{secrets.token_hex(4)}')
    assert stack.admin('PATCH', f'/campaigns/{campaign["id"]}', {'status': 'paused'}).status_code == 200
    assert error_of(stack.call('POST', '/api/groups', token, json={'campaign_id': campaign['id']})) == \
        (409, 'campaign_not_active')
    assert stack.admin('PATCH', f'/campaigns/{campaign["id"]}', {'status': 'ended'}).status_code == 200
    assert error_of(stack.admin('PATCH', f'/campaigns/{campaign["id"]}', {'status': 'active'})) == \
        (409, 'invalid_transition')
    assert error_of(stack.admin('PATCH', f'/campaigns/{campaign["id"]}', {'status': 'bogus'})) == \
        (400, 'invalid_input')
