"""HTTP rate limits (risk control §2, config/rate_limits.py): a burst from one client gets 429 with
`Retry-After` and the JSON error, other clients carry on, and the client is served again once the window
has passed; per verified user, per device id, per address (and behind PROXY_HOPS proxies, the client's);
the bot counts only pushes that are not WeChat's; a Redis outage never takes the API down.

The app runs in this process on the real database and Redis, WeChat is the sandbox on a loopback port,
and the limits are small (settings overrides) so a window passes in a second or two."""
import logging
import re
import secrets
import time
from pathlib import Path

import pytest
import redis as redis_lib
import yaml
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from config import embedded_redis
from config.rate_limits import LIMITS
from groupbuy.models import Order
from tests.integration.test_bot_callback import push_xml, wechat
from tests.integration.test_group_lifecycle import open_and_form
from tests.integration.test_user_tokens import token_for
from tests.support.builders import campaign, pay, user
from tests.support.console import operator, sign_in
from wsgi import register_blueprints

DEVICE, OTHER_DEVICE = 'dev-' + 'a' * 20, 'dev-' + 'b' * 20


@pytest.fixture
def make(on_sandbox):
    """`make(**settings)`: the app on the sandbox and the test's clock (tests/integration/conftest.py)."""
    return on_sandbox


def wxlogin(app, who: str = 'amy', device: str | None = None, address: str = '127.0.0.1', **headers):
    if device is not None:
        headers['X-Pinke-Device'] = device
    return app.test_client().post('/api/auth/wxlogin', json={'code': f'{who}.{secrets.token_hex(4)}'},
                                  headers=headers, environ_base={'REMOTE_ADDR': address})


def join(app, token: str, share_code: str, device: str | None = None, address: str = '127.0.0.1'):
    headers = {'Authorization': f'Bearer {token}', **({'X-Pinke-Device': device} if device else {})}
    return app.test_client().post(f'/api/groups/{share_code}/join', headers=headers,
                                  environ_base={'REMOTE_ADDR': address})


def throttled(answer) -> int:
    """The 429 of a rate limit: the JSON error, and the seconds to wait."""
    assert answer.status_code == 429, answer.get_data(as_text=True)
    assert answer.get_json()['error']['code'] == 'rate_limited' and answer.get_json()['error']['message']
    return retry_after(answer)


def wait(seconds: float) -> None:
    """Let a window pass (Retry-After said how long): then the client must be served again."""
    time.sleep(seconds)


def retry_after(answer) -> int:
    seconds = int(answer.headers['Retry-After'])
    assert seconds >= 1
    return seconds


def forming_group(deps, size: int = 10):
    return open_and_form(deps, campaign(group_size=size), user()).share_code


def test_a_burst_of_joins_from_one_user_is_throttled_others_are_not_and_it_recovers(make, deps):
    app = make(rate_limit_join='3 per 2 second')
    share = forming_group(deps)
    burster, friend = token_for(app, user()), token_for(app, user())
    assert [join(app, burster, share).status_code for _ in range(3)] == [201, 409, 409]  # then already_joined
    refused = join(app, burster, share)
    assert retry_after(refused) <= 2 and throttled(refused)
    assert refused.get_json() == {'error': {'code': 'rate_limited', 'message': refused.get_json()['error']['message']}}
    assert join(app, friend, share).status_code == 201  # same address, another person
    wait(retry_after(refused))
    again = join(app, burster, share)
    assert (again.status_code, again.get_json()['error']['code']) == (409, 'already_joined')  # served again


def test_the_join_limit_per_device_counts_every_account_on_that_device(make, deps):
    app = make(rate_limit_join='2 per minute')
    shares = [forming_group(deps) for _ in range(3)]  # one account per group: a device may hold one seat in each
    tokens = [token_for(app, user()) for _ in range(3)]
    assert [join(app, t, s, device=DEVICE).status_code for t, s in zip(tokens[:2], shares)] == [201, 201]
    throttled(join(app, tokens[2], shares[2], device=DEVICE))  # a third account on the same phone
    assert join(app, tokens[2], shares[2], device=OTHER_DEVICE).status_code == 201


def test_the_user_limit_counts_the_verified_user_never_the_token_string(make, deps):
    app = make(rate_limit_join='2 per minute')
    share, other_share = forming_group(deps), forming_group(deps)
    victim = user()
    forged = URLSafeTimedSerializer('not-our-secret', salt='pinke-user-token').dumps(
        {'u': victim.id, 'k': victim.token_key})  # names the victim, signed by someone else
    for garbage in [forged, 'garbage', secrets.token_urlsafe(40)]:
        assert join(app, garbage, share).status_code == 401  # rotating bad tokens burns nobody's count
    first = token_for(app, victim)
    with app.test_request_context():  # a second, different token of the same person
        from miniapp_api.auth import _serializer
        second = _serializer().dumps({'k': victim.token_key, 'u': victim.id})
    assert first != second
    assert [join(app, first, share).status_code, join(app, second, other_share).status_code] == [201, 201]
    throttled(join(app, first, share))  # the person's third join, whichever token they hold
    throttled(join(app, second, share))


def test_the_sign_in_limit_per_device_counts_the_device_header_and_recovers(make):
    app = make(rate_limit_login='2 per 2 second')
    assert [wxlogin(app, who, DEVICE).status_code for who in ('ann', 'bob')] == [200, 200]  # two people, one phone
    refused = wxlogin(app, 'cat', DEVICE)
    throttled(refused)
    assert wxlogin(app, 'cat', OTHER_DEVICE).status_code == 200
    assert wxlogin(app, 'dan').status_code == 200  # no device id: that limit is skipped, the address one holds
    assert wxlogin(app, 'eve', device='not-one!').status_code == 200  # not a device id: none
    wait(retry_after(refused))
    assert wxlogin(app, 'fay', DEVICE).status_code == 200


def test_every_web_process_shares_the_counts(make, deps):
    """Two apps on one Redis, as two gunicorn workers are: a burst spread over both is still one burst."""
    first, second = make(rate_limit_join='2 per minute'), make(rate_limit_join='2 per minute')
    shares = [forming_group(deps) for _ in range(3)]
    token = token_for(first, user())
    assert [join(first, token, shares[0]).status_code, join(second, token, shares[1]).status_code] == [201, 201]
    throttled(join(first, token, shares[2]))
    throttled(join(second, token, shares[2]))


def test_the_address_limit_ignores_x_forwarded_for_without_proxy_hops(make):
    app = make(rate_limit_login_ip='2 per minute')
    spoofed = [wxlogin(app, f'ip{i}', address='198.51.100.7', **{'X-Forwarded-For': f'203.0.113.{i}'})
               for i in range(3)]  # a client inventing addresses
    assert [a.status_code for a in spoofed[:2]] == [200, 200]
    throttled(spoofed[2])
    assert wxlogin(app, 'ip9', address='198.51.100.8').status_code == 200


def test_behind_proxy_hops_proxies_the_address_is_the_clients(make):
    app = make(proxy_hops=1, rate_limit_login_ip='2 per minute')
    balancer = '10.0.0.2'
    for i in range(2):
        assert wxlogin(app, f'px{i}', address=balancer, **{'X-Forwarded-For': '203.0.113.5'}).status_code == 200
    throttled(wxlogin(app, 'px2', address=balancer, **{'X-Forwarded-For': '203.0.113.5'}))
    # what the client wrote itself comes first; the balancer appends the address it saw: that one counts
    throttled(wxlogin(app, 'px3', address=balancer, **{'X-Forwarded-For': '198.51.100.1, 203.0.113.5'}))
    assert wxlogin(app, 'px4', address=balancer, **{'X-Forwarded-For': '203.0.113.6'}).status_code == 200


def test_the_defaults_let_a_friend_through_and_stop_the_reviews_bursts(make, deps):
    """The review: 200 new accounts from one client in 2.5 s, 200 joins from one client in 2.7 s."""
    app = make()
    rt = app.extensions['pinke']
    friend = wxlogin(app, 'friend', DEVICE)
    token = friend.get_json()['token']
    client = app.test_client()
    headers = {'Authorization': f'Bearer {token}', 'X-Pinke-Device': DEVICE}
    first, second = forming_group(deps), forming_group(deps)
    assert client.get(f'/api/groups/{first}/share', headers=headers).status_code == 200
    checkouts = [join(app, token, share, device=DEVICE) for share in (first, second)]
    assert [c.status_code for c in checkouts] == [201, 201]
    for checkout in checkouts:
        assert pay(deps, Order.get_by_id(checkout.get_json()['order']['id'])) == 'seated'
        assert client.get(f"/api/orders/{checkout.get_json()['order']['id']}", headers=headers).status_code == 200
    assert rt.settings.rate_limit_login_ip.startswith('60 per minute')
    logins = [wxlogin(app, f'bot{i}').status_code for i in range(60)]  # a script: no device id
    assert logins == [200] * 59 + [429]  # 60 a minute from one address, the friend's sign-in included
    assert rt.settings.rate_limit_join_ip.startswith('60 per minute')
    share = forming_group(deps, size=100)
    joins = [join(app, token_for(app, user()), share).status_code for _ in range(59)]
    assert joins == [201] * 58 + [429]  # the friend's two joins included


def test_an_h5_page_over_its_limit_is_a_page_too_and_each_endpoint_counts_apart(make, deps):
    app = make(rate_limit_share_ip='2 per minute')
    share, client = forming_group(deps), app.test_client()
    assert [client.get(f'/g/{share}').status_code for _ in range(2)] == [200, 200]
    page = client.get(f'/g/{share}')
    assert page.status_code == 429 and page.mimetype == 'text/html' and '太频繁' in page.get_data(as_text=True)
    assert retry_after(page) <= 60
    assert client.get(f'/api/groups/{share}/share').status_code == 200  # the share card counts on its own
    client.get(f'/api/groups/{share}/share')
    throttled(client.get(f'/api/groups/{share}/share'))


def test_the_bot_counts_only_pushes_that_are_not_wechats(make):
    app = make(rate_limit_bot_refused_ip='3 per minute')
    wechat_server, forger = '101.226.103.1', '198.51.100.66'

    def push(xml, address, forge=False):
        query, body = wechat(xml)
        if forge:
            query['signature'] = '0' * 40
        return app.test_client().post('/wechat/callback', query_string=query, data=body,
                                      headers={'Content-Type': 'text/xml'}, environ_base={'REMOTE_ADDR': address})
    chatty = [push(push_xml('oa-fan', MsgType='text', Content='帮助', MsgId=str(1000 + i)), wechat_server)
              for i in range(8)]  # one follower, many messages, all through WeChat's address
    assert [a.status_code for a in chatty] == [200] * 8
    forged = [push(push_xml('oa-fan', MsgType='text', Content='帮助', MsgId=str(2000 + i)), forger, forge=True)
              for i in range(4)]
    assert [a.status_code for a in forged[:3]] == [403, 403, 403]
    assert forged[3].status_code == 429 and retry_after(forged[3]) <= 60
    assert push(push_xml('oa-fan', MsgType='text', Content='帮助', MsgId='3000'), wechat_server).status_code == 200


def test_the_console_throttle_takes_its_rate_from_the_settings(make, clock):
    app = make(rate_limit_console_login='2 per minute')
    operator('olive', 'operator', clock.now())
    client = app.test_client()
    assert [sign_in(client, 'olive', 'wrong password!').status_code for _ in range(2)] == [401, 401]
    page = sign_in(client, 'olive')
    assert page.status_code == 429 and page.mimetype == 'text/html' and retry_after(page) <= 60


def test_a_redis_outage_lets_requests_through_and_limits_each_process_in_memory(make, tmp_path, caplog):
    (tmp_path / 'redis').mkdir()
    own_redis = embedded_redis.start(str(tmp_path / 'redis'))  # a Redis of its own, to stop
    app = make(redis_url=own_redis, rate_limit_share_ip='2 per minute')
    client = app.test_client()

    def oauth_return():  # a limited page that needs no Redis itself: a forged OAuth state is simply refused
        return client.get('/g/oauth?state=forged').status_code
    assert [oauth_return() for _ in range(3)] == [400, 400, 429]  # counted in Redis
    redis_lib.Redis.from_url(own_redis).shutdown(nosave=True)
    with caplog.at_level(logging.WARNING):
        assert [oauth_return() for _ in range(3)] == [400, 400, 429]  # served; counted in this process
    assert 'falling back to in-memory storage' in caplog.text


def test_limits_are_off_only_when_told(make):
    app = make(rate_limits_enabled=False, rate_limit_login_ip='1 per minute')
    assert [wxlogin(app, f'load{i}').status_code for i in range(3)] == [200, 200, 200]


def test_a_rate_that_cannot_be_read_stops_the_app_from_starting(make):
    with pytest.raises(SystemExit, match='RATE_LIMIT_JOIN='):
        make(rate_limit_join='as many as they like')


def test_the_api_document_names_exactly_the_limited_calls_as_answering_429():
    """docs/openapi.yaml in step with the table (the H5 pages, the bot and the console are outside it)."""
    app = Flask(__name__)
    register_blueprints(app)
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    limited = {(method, re.sub(r'<(?:\w+:)?(\w+)>', r'{\1}', rules[limit.endpoint].rule))
               for limit in LIMITS for method in limit.methods or rules[limit.endpoint].methods - {'HEAD', 'OPTIONS'}
               if rules[limit.endpoint].rule.startswith('/api')}
    doc = yaml.safe_load((Path(__file__).resolve().parents[2] / 'docs' / 'openapi.yaml').read_text())['paths']
    documented = {(method.upper(), path) for path, operations in doc.items() for method, operation in operations.items()
                  if isinstance(operation, dict) and '429' in operation.get('responses', {})}
    assert documented == limited
