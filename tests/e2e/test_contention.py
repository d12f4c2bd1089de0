"""300 people tap 'join' at once on a group with two seats left."""
import secrets
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.system import drop_system_db, flask_command, running_stack, system_env
from tools.http_client import wait_until

pytestmark = pytest.mark.e2e
CLIENTS = 300


@pytest.fixture(scope='module')
def roomy(tmp_root, redis_url, redis_client):
    """A system whose pay window (10 minutes) cannot run out during the burst, however loaded the
    machine: every reservation the burst makes is still live when the test counts them, so more than
    two would be an oversell, never a window that legitimately expired (the default stack's is 3 s)."""
    env = system_env(tmp_root, redis_url, 'contention', PAY_WINDOW_S='600')
    try:
        with running_stack(env, tmp_root / 'contention', redis_client) as api:
            yield api
    finally:
        drop_system_db(env, 'contention')


def test_300_concurrent_joins_for_two_seats_give_exactly_two_seats(roomy):
    stack = roomy
    campaign = stack.new_campaign(group_size=3)
    _, share = stack.open_formed_group(campaign['id'], f'leader-{secrets.token_hex(4)}')
    with ThreadPoolExecutor(32) as pool:
        tokens = list(pool.map(lambda i: stack.login(f'crowd-{i}-{secrets.token_hex(3)}'), range(CLIENTS)))
    start = threading.Barrier(CLIENTS)

    def join(token):
        session = requests.Session()
        start.wait()
        r = session.post(f'{stack.api}/api/groups/{share}/join', headers={'Authorization': f'Bearer {token}'},
                         timeout=120)
        return r.status_code, r.json()

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(join, tokens))
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 2, 409: CLIENTS - 2}, statuses
    assert {body['error']['code'] for status, body in results if status == 409} == {'group_full'}
    during = stack.group(share)
    assert (during['paid_count'], during['reserved_count']) == (1, 2)  # the leader paid; two are paying
    winners = [body for status, body in results if status == 201]
    for checkout in winners:
        assert stack.confirm(checkout).status_code == 200
    group = wait_until(lambda: (g := stack.group(share))['status'] == 'succeeded' and g, what='succeeded')
    assert (group['paid_count'], group['reserved_count']) == (3, 0)
    orders = [stack.order(token, body['order']['id'])['status'] for token, (status, body) in zip(tokens, results)
              if status == 201]
    assert orders == ['fulfilled', 'fulfilled']
    result = flask_command(stack.env, 'audit', '--grace', '0')
    assert result.returncode == 0, result.stdout
