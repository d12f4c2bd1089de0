"""`make demo`: walk the running system (`make run`) through both endings of a group, over HTTP.

1. Three people fill a group: the leader opens and pays, two friends join and pay, all enrolled.
2. A group short at its deadline: a 10-second campaign, two of three pay, both refunded.
Payments go through the WeChat sandbox exactly as the mini-program's wx.requestPayment would.
"""
import json
import os
import secrets
import sys
from pathlib import Path

from tools.http_client import Api, wait_until


def connect() -> Api:
    data_dir = Path(os.environ.get('DATA_DIR', './instance'))
    token = os.environ.get('ADMIN_TOKEN') or json.loads((data_dir / 'secrets.json').read_text())['admin_token']
    api = Api(f'http://127.0.0.1:{os.environ.get("PORT", "5000")}',
              f'http://127.0.0.1:{os.environ.get("SANDBOX_PORT", "5009")}', token)
    try:
        api.http.get(api.api + '/healthz', timeout=2).raise_for_status()
    except Exception:  # noqa: BLE001
        sys.exit(f'nothing answers at {api.api}: start the system first with `make run`')
    return api


def yuan(fen: int) -> str:
    return f'¥{fen / 100:.2f}'


def happy_path(api: Api, tag: str) -> None:
    print('\n== 1. three people fill a group')
    campaign = api.new_campaign(title=f'演示课程 {tag}', group_size=3, duration_s=3600,
                                group_price_fen=9900, leader_price_fen=8900)
    print(f'campaign {campaign["id"]}: {campaign["group_size"]} people, group price {yuan(9900)}, leader {yuan(8900)}')
    leader = api.login(f'alice-{tag}')
    opened = api.open_group(leader, campaign['id'])
    share = opened['group']['share_code']
    print(f'alice opens group {share} and pays {yuan(opened["order"]["amount_fen"])} in the sandbox')
    api.confirm(opened)
    wait_until(lambda: api.group(share)['status'] == 'forming', what='forming')
    for name in ('bob', 'carol'):
        token = api.login(f'{name}-{tag}')
        joined = api.join(token, share).json()
        api.confirm(joined)
        print(f'{name} joins and pays {yuan(joined["order"]["amount_fen"])}')
    group = wait_until(lambda: (g := api.group(share))['status'] == 'succeeded' and g, what='succeeded')
    print(f'group {share}: {group["status"]}, {group["paid_count"]}/{group["size"]} paid')
    courses = api.call('GET', '/api/me/courses', leader).json()['courses']
    print(f'alice now has: {[c["title"] for c in courses]}')


def failing_path(api: Api, tag: str) -> None:
    print('\n== 2. a group short at its deadline is refunded')
    campaign = api.new_campaign(title=f'演示课程（10 秒团）{tag}', group_size=3, duration_s=10)
    leader = api.login(f'dave-{tag}')
    opened = api.open_group(leader, campaign['id'])
    share = opened['group']['share_code']
    api.confirm(opened)
    wait_until(lambda: api.group(share)['status'] == 'forming', what='forming')
    member = api.login(f'erin-{tag}')
    joined = api.join(member, share).json()
    api.confirm(joined)
    print(f'dave opens {share}, erin joins; both pay; nobody else comes. Waiting for the 10 s deadline...')
    wait_until(lambda: api.group(share)['status'] == 'failed', timeout=30, what='failed')
    order = wait_until(lambda: (o := api.order(member, joined['order']['id']))['status'] == 'refunded' and o,
                       timeout=60, what='refunded')
    print(f'group {share}: failed; erin\'s order {order["status"]}, {yuan(order["refund"]["amount_fen"])} '
          f'back to her WeChat Pay')


def main() -> None:
    api = connect()
    tag = secrets.token_hex(3)
    happy_path(api, tag)
    failing_path(api, tag)
    print('\nDone. Check the money with `make audit`.')


if __name__ == '__main__':
    main()
