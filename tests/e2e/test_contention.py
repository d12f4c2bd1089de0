"""300 people tap 'join' at once on a group with two seats left."""
import secrets
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tools.http_client import wait_until

pytestmark = pytest.mark.e2e
CLIENTS = 300


def test_300_concurrent_joins_for_two_seats_give_exactly_two_seats(stack, audit):
    campaign = stack.new_campaign(group_size=3)
    _, share = stack.open_formed_group(campaign['id'], f'leader-{secrets.token_hex(4)}')
    with ThreadPoolExecutor(32) as pool:
        tokens = list(pool.map(lambda i: stack.login(f'crowd-{i}-{secrets.token_hex(3)}'), range(CLIENTS)))
    start = threading.Barrier(CLIENTS)

    def join(token):
        session = requests.Session()
        start.wait()
        r = session.post(f'{stack.api}/api/groups/{share}/join', headers={'Authorization': f'Bearer {token}'},
                         timeout=60)
        return r.status_code, r.json()

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(join, tokens))
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 2, 409: CLIENTS - 2}, statuses
    assert {body['error']['code'] for status, body in results if status == 409} == {'group_full'}
    winners = [body for status, body in results if status == 201]
    for checkout in winners:
        assert stack.confirm(checkout).status_code == 200
    group = wait_until(lambda: (g := stack.group(share))['status'] == 'succeeded' and g, what='succeeded')
    assert group['paid_count'] == 3
    result = audit()
    assert result.returncode == 0, result.stdout
