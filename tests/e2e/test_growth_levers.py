"""The growth levers of issue 12 over real HTTP against the running system (web, worker, scheduler, WeChat
sandbox): a tiered group (阶梯团) refunds each payer the difference at WeChat, a free leader (团长免单) never
reaches WeChat at all, a cross-course group (跨课程拼团) enrolls each member in their own pick, and a referral
coupon (老带新) is granted on success, spent once under 20 concurrent checkouts and revoked on an after-sale
refund. The same scenarios at domain level: tests/integration/test_growth_levers.py.

Every account here is minutes old, so risk control (groupbuy/risk/rules.py) would hold a group of four fresh
members, or a free leader's group of fresh members, for review: where success is the point, the campaign's
rules are relaxed from the console as an operator would."""
import json
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.system import drop_system_db, flask_command, running_stack, system_env
from tests.support.timing import bound
from tools.console_client import Console
from tools.http_client import wait_until

pytestmark = pytest.mark.e2e
PASSWORD = 'growth-console-pass'
TIERS = [{'size': 3, 'price_fen': 9900}, {'size': 5, 'price_fen': 7900}]
COUPON = {'kind': 'coupon', 'amount_fen': 1000, 'min_spend_fen': 5000, 'valid_days': 30}
NO_FRESH_REVIEW = {'fresh_fill_members': 100, 'free_leader_fresh_members': 100}
CHECKOUTS = 20


def name(prefix: str) -> str:
    return f'{prefix}-{secrets.token_hex(4)}'


def answer(r: requests.Response, status: int = 201) -> dict:
    assert r.status_code == status, f'{r.request.method} {r.url}: {r.status_code} {r.text}'
    return r.json()


# --- the operator and the catalogue ----------------------------------------------------------------

@pytest.fixture(scope='module')
def ops(stack) -> Console:
    """An operator signed in to the console (campaign risk rules are set there, not in the admin API)."""
    who = name('growth-ops')
    made = flask_command(stack.env, 'admin', 'create', who, '--role', 'operator', '--password', PASSWORD)
    assert made.returncode == 0, made.stderr
    return Console(stack.api, who, PASSWORD)


def relax_risk_rules(ops: Console, campaign_id: int) -> None:
    ops.post(f'/risk/campaigns/{campaign_id}/rules', rules=json.dumps(NO_FRESH_REVIEW))


def new_course(stack, title: str, price_fen: int = 19900) -> dict:
    return answer(stack.admin('POST', '/courses', {'title': title, 'price_fen': price_fen}))['course']


def new_campaign(stack, course_id: int, **terms) -> dict:
    body = {'course_id': course_id, 'duration_s': 3600, **terms}
    return answer(stack.admin('POST', '/campaigns', body))['campaign']


# --- shoppers --------------------------------------------------------------------------------------

def shopper(stack, nickname: str) -> str:
    token = stack.login(nickname)
    answer(stack.call('PATCH', '/api/me', token, json={'nickname': nickname}), 200)
    return token


def open_group(stack, token: str, campaign_id: int, **extra) -> dict:
    return answer(stack.call('POST', '/api/groups', token, json={'campaign_id': campaign_id, **extra}))


def join(stack, token: str, share: str, **body) -> dict:
    return answer(stack.call('POST', f'/api/groups/{share}/join', token, json=body or None))


def pay(stack, checkout: dict) -> None:
    assert stack.confirm(checkout).status_code == 200


def join_and_pay(stack, token: str, share: str, **body) -> dict:
    checkout = join(stack, token, share, **body)
    pay(stack, checkout)
    return checkout


def paid_count(stack, share: str, n: int) -> dict:
    return wait_until(lambda: (g := stack.group(share))['paid_count'] == n and g, timeout=bound(5),
                      what=f'{n} paid')


def group_status(stack, share: str, status: str, timeout: float = bound(5)) -> dict:
    return wait_until(lambda: (g := stack.group(share))['status'] == status and g, timeout=timeout,
                      what=f'group {status}')


def courses_of(stack, token: str) -> list[int]:
    return [c['id'] for c in answer(stack.call('GET', '/api/me/courses', token), 200)['courses']]


def orders_of(stack, token: str) -> list[dict]:
    return answer(stack.call('GET', '/api/me/orders', token), 200)['orders']


def rewards_of(stack, token: str) -> dict:
    return answer(stack.call('GET', '/api/me/rewards', token), 200)


def order_when(stack, token: str, order_id: int, predicate, what: str) -> dict:
    def check():
        order = stack.order(token, order_id)
        return order if predicate(order) else None
    return wait_until(check, timeout=bound(10), what=what)


# --- WeChat's side ---------------------------------------------------------------------------------

def wechat_order(stack, out_trade_no: str) -> requests.Response:
    return stack.http.get(f'{stack.sandbox}/sandbox/orders/{out_trade_no}', timeout=10)


def wechat_refunds(stack, out_trade_no: str) -> list[dict]:
    return stack.http.get(f'{stack.sandbox}/sandbox/refunds', params={'out_trade_no': out_trade_no},
                          timeout=10).json()['refunds']


def clean(audit_result) -> None:
    assert audit_result.returncode == 0, audit_result.stdout + audit_result.stderr


# --- 阶梯团 ---------------------------------------------------------------------------------------

def test_a_tiered_group_of_five_refunds_each_payer_the_twenty_yuan_difference_at_wechat(stack, ops, audit):
    course = new_course(stack, '阶梯团课')
    campaign = new_campaign(stack, course['id'], tiers=TIERS)
    assert (campaign['group_size'], campaign['group_price_fen'], campaign['tiers']) == (5, 9900, TIERS)
    relax_risk_rules(ops, campaign['id'])  # four fresh members would be held for review
    leader = shopper(stack, name('tier-leader'))
    opened = open_group(stack, leader, campaign['id'])
    assert opened['order']['amount_fen'] == 9900
    pay(stack, opened)
    share = opened['group']['share_code']
    tier = group_status(stack, share, 'forming')['tier']
    assert tier['reached'] is None and tier['next'] == {'size': 3, 'price_fen': 9900, 'more': 2}

    buyers = [(leader, opened)]
    for n in range(4):
        token = shopper(stack, name(f'tier-m{n}'))
        checkout = join_and_pay(stack, token, share)
        assert checkout['order']['amount_fen'] == 9900  # everyone pays the smallest tier's price up front
        buyers.append((token, checkout))
        if n == 1:  # three paid: success is certain, the group keeps filling
            group = paid_count(stack, share, 3)
            assert group['status'] == 'forming'
            assert group['tier'] == {'tiers': TIERS, 'reached': {'size': 3, 'price_fen': 9900},
                                     'next': {'size': 5, 'price_fen': 7900, 'more': 2}, 'price_now_fen': 9900}
    group = group_status(stack, share, 'succeeded')
    assert group['paid_count'] == 5
    assert group['tier']['reached'] == {'size': 5, 'price_fen': 7900} and group['tier']['next'] is None

    for token, checkout in buyers:
        order = order_when(stack, token, checkout['order']['id'],
                           lambda o: (o['tier_refund'] or {}).get('status') == 'succeeded', 'tier refund succeeded')
        assert order['status'] == 'fulfilled' and order['refund'] is None  # the course stays bought
        assert (order['tier_refund']['amount_fen'], order['tier_refund']['reason']) == (2000, 'tier_difference')
        assert courses_of(stack, token) == [course['id']]
    at_wechat = [wechat_refunds(stack, c['order']['out_trade_no']) for _, c in buyers]
    assert [[(r['refund_fee'], r['status']) for r in refunds] for refunds in at_wechat] == [[(2000, 'SUCCESS')]] * 5
    assert all(refunds[0]['out_refund_no'].startswith('RT') for refunds in at_wechat)
    clean(audit())


# --- 团长免单 --------------------------------------------------------------------------------------

def free_leader_group(stack, campaign_id: int) -> tuple[str, dict]:
    """A free leader opens: no payment at all, the group forms at once. (leader token, the open's answer)."""
    leader = shopper(stack, name('free-leader'))
    opened = open_group(stack, leader, campaign_id)
    assert opened['pay_params'] is None and opened['order']['amount_fen'] == 0
    assert opened['group']['status'] == 'forming' and opened['group']['leader_price_fen'] == 0
    assert wechat_order(stack, opened['order']['out_trade_no']).status_code == 404  # WeChat never asked
    return leader, opened


def test_a_free_leaders_group_succeeds_with_its_paying_members_and_never_asks_wechat_for_zero(stack, ops, audit):
    course = new_course(stack, '团长免单课')
    campaign = new_campaign(stack, course['id'], group_size=3, group_price_fen=9900, leader_price_fen=0)
    relax_risk_rules(ops, campaign['id'])  # a free leader's group of fresh members would go to review
    leader, opened = free_leader_group(stack, campaign['id'])
    share = opened['group']['share_code']
    members = [shopper(stack, name(f'free-m{n}')) for n in range(2)]
    joined = [join_and_pay(stack, token, share) for token in members]
    assert [c['order']['amount_fen'] for c in joined] == [9900, 9900]
    assert [wechat_order(stack, c['order']['out_trade_no']).json()['total_fee'] for c in joined] == [9900, 9900]
    group = group_status(stack, share, 'succeeded')
    assert group['paid_count'] == 3 and [m['role'] for m in group['members']] == ['leader', 'member', 'member']
    for token in (leader, *members):
        assert courses_of(stack, token) == [course['id']]
        assert [o['status'] for o in orders_of(stack, token)] == ['fulfilled']
    assert stack.order(leader, opened['order']['id'])['refund'] is None
    assert wechat_order(stack, opened['order']['out_trade_no']).status_code == 404
    clean(audit())


def test_a_free_leaders_group_short_at_its_deadline_refunds_only_the_payers(stack, audit):
    course = new_course(stack, '团长免单课（未成团）')
    campaign = new_campaign(stack, course['id'], group_size=3, group_price_fen=9900, leader_price_fen=0,
                            duration_s=5)
    member = shopper(stack, name('free-short'))  # signed in first: the 5 s start when the leader opens
    leader, opened = free_leader_group(stack, campaign['id'])
    share = opened['group']['share_code']
    joined = join_and_pay(stack, member, share)
    paid_count(stack, share, 2)
    group_status(stack, share, 'failed', timeout=bound(10))
    refunded = order_when(stack, member, joined['order']['id'], lambda o: o['status'] == 'refunded',
                          'the paying member refunded')
    assert (refunded['refund']['amount_fen'], refunded['refund']['reason']) == (9900, 'group_failed')
    assert [(r['refund_fee'], r['status']) for r in wechat_refunds(stack, joined['order']['out_trade_no'])] == [
        (9900, 'SUCCESS')]
    free = stack.order(leader, opened['order']['id'])
    assert (free['status'], free['amount_fen'], free['refund']) == ('closed', 0, None)
    assert wechat_refunds(stack, opened['order']['out_trade_no']) == []
    assert wechat_order(stack, opened['order']['out_trade_no']).status_code == 404
    assert courses_of(stack, leader) == [] and courses_of(stack, member) == []
    clean(audit())


def test_a_free_leaders_group_filled_by_fresh_accounts_waits_for_review(stack, audit):
    """The campaign's default rules: a free course won by fake friends is what review is for."""
    course = new_course(stack, '团长免单课（风控）')
    campaign = new_campaign(stack, course['id'], group_size=3, group_price_fen=9900, leader_price_fen=0)
    leader, opened = free_leader_group(stack, campaign['id'])
    share = opened['group']['share_code']
    members = [shopper(stack, name(f'fresh-{n}')) for n in range(2)]
    joined = [join_and_pay(stack, token, share) for token in members]
    group = group_status(stack, share, 'reviewing')
    assert group['paid_count'] == 3
    for token, checkout in zip(members, joined):
        assert stack.order(token, checkout['order']['id'])['status'] == 'paid'  # money held, no course yet
    assert all(courses_of(stack, token) == [] for token in (leader, *members))
    clean(audit())


# --- 跨课程拼团 ------------------------------------------------------------------------------------

def test_a_cross_course_group_enrolls_each_member_in_the_course_they_picked(stack, audit):
    a, b, c = (new_course(stack, title, price) for title, price in
               (('Python 入门', 19900), ('Go 入门', 18900), ('Rust 入门', 20900)))
    campaign = new_campaign(stack, a['id'], group_size=3, group_price_fen=9900, extra_course_ids=[b['id'], c['id']],
                            band_low_fen=15000, band_high_fen=25000)
    assert [x['id'] for x in campaign['courses']] == [a['id'], b['id'], c['id']]
    assert campaign['price_band_fen'] == [15000, 25000]
    leader = shopper(stack, name('x-leader'))
    opened = open_group(stack, leader, campaign['id'], course_id=b['id'])
    assert opened['order']['course_id'] == b['id']
    pay(stack, opened)
    share = opened['group']['share_code']
    group_status(stack, share, 'forming')
    first, second = shopper(stack, name('x-first')), shopper(stack, name('x-second'))
    by_default = join_and_pay(stack, first, share)
    picked = join_and_pay(stack, second, share, course_id=c['id'])
    assert (by_default['order']['course_id'], picked['order']['course_id']) == (a['id'], c['id'])
    group = group_status(stack, share, 'succeeded')
    assert [(m['role'], m['course_id']) for m in group['members']] == [
        ('leader', b['id']), ('member', a['id']), ('member', c['id'])]
    assert (courses_of(stack, leader), courses_of(stack, first), courses_of(stack, second)) == (
        [b['id']], [a['id']], [c['id']])
    clean(audit())


# --- 老带新 ----------------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def unthrottled(tmp_root, redis_url, redis_client):
    """A system of its own for the referral test: one shopper fires 20 checkouts at once, which the default
    per-user join limit (RATE_LIMIT_JOIN, 10 a minute) would cut to 10 with 429s before the coupon is even looked
    at; and a pay window of a minute, so the winner's seat cannot lapse while a loaded machine answers the burst."""
    env = system_env(tmp_root, redis_url, 'growth', RATE_LIMIT_JOIN='', PAY_WINDOW_S='60')
    try:
        with running_stack(env, tmp_root / 'growth', redis_client) as api:
            yield api
    finally:
        drop_system_db(env, 'growth')


def formed(stack, title: str) -> str:
    """A campaign of its own course with a group of 2 whose leader has paid: its share code."""
    campaign = new_campaign(stack, new_course(stack, title)['id'], group_size=2, group_price_fen=9900)
    _, share = stack.open_formed_group(campaign['id'], name('lead'))
    return share


def test_a_referral_coupon_is_granted_on_success_spent_once_under_20_checkouts_and_revoked_on_refund(unthrottled):
    stack = unthrottled
    campaign = new_campaign(stack, new_course(stack, '老带新课')['id'], group_size=3, group_price_fen=9900,
                            reward=COUPON)
    assert campaign['reward'] == COUPON
    referrer = shopper(stack, name('referrer'))
    opened = open_group(stack, referrer, campaign['id'])
    pay(stack, opened)
    share = opened['group']['share_code']
    group_status(stack, share, 'forming')
    ref = answer(stack.call('GET', f'/api/groups/{share}/share', referrer), 200)['path'].split('&from=')[1]

    newcomer_name = name('newcomer')
    login = answer(stack.call('POST', '/api/auth/wxlogin', json={
        'code': f'{newcomer_name}.{secrets.token_hex(6)}', 'from': ref, 'share_code': share}), 200)
    assert login['created'] is True
    newcomer = login['token']
    answer(stack.call('PATCH', '/api/me', newcomer, json={'nickname': newcomer_name}), 200)
    brought = join_and_pay(stack, newcomer, share)
    paid_count(stack, share, 2)
    assert rewards_of(stack, referrer)['rewards'] == []  # nothing before the group succeeds
    join_and_pay(stack, shopper(stack, name('friend')), share)
    group_status(stack, share, 'succeeded')
    earned = rewards_of(stack, referrer)
    assert len(earned['rewards']) == 1, earned
    coupon = earned['rewards'][0]
    assert (coupon['kind'], coupon['amount_fen'], coupon['min_spend_fen'], coupon['status']) == (
        'coupon', 1000, 5000, 'available')
    assert coupon['earned_for']['nickname'] == newcomer_name and coupon['expires_at']
    assert [e['action'] for e in earned['ledger']] == ['grant']
    assert rewards_of(stack, newcomer)['rewards'] == []

    # 20 checkouts at once, each in a group of its own course, all spending the one coupon
    with ThreadPoolExecutor(10) as pool:
        shares = list(pool.map(lambda n: formed(stack, f'第{n}门课'), range(CHECKOUTS)))
    start = threading.Barrier(CHECKOUTS)

    def checkout(share_code):
        session = requests.Session()
        start.wait()
        r = session.post(f'{stack.api}/api/groups/{share_code}/join', json={'coupon_id': coupon['id']},
                         headers={'Authorization': f'Bearer {referrer}'}, timeout=60)
        return r.status_code, r.json()

    with ThreadPoolExecutor(CHECKOUTS) as pool:
        results = list(pool.map(checkout, shares))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * (CHECKOUTS - 1), results
    assert {body['error']['code'] for status, body in results if status == 409} == {'coupon_unavailable'}
    [(won_share, won)] = [(s, body) for s, (status, body) in zip(shares, results) if status == 201]
    order = won['order']
    assert (order['amount_fen'], order['discount_fen'], order['coupon_id']) == (8900, 1000, coupon['id'])
    assert wechat_order(stack, order['out_trade_no']).json()['total_fee'] == 8900  # the price less the coupon
    assert rewards_of(stack, referrer)['rewards'][0]['status'] == 'held'
    assert len(orders_of(stack, referrer)) == 2  # the group they opened and the one checkout that won

    pay(stack, won)
    group_status(stack, won_share, 'succeeded')
    assert stack.order(referrer, order['id'])['status'] == 'fulfilled'
    assert rewards_of(stack, referrer)['rewards'][0]['status'] == 'used'

    # 售后退款 of the newcomer's order: the course goes, and the reward it earned is revoked though spent
    refund = answer(stack.admin('POST', f'/orders/{brought["order"]["id"]}/refund'), 202)['refund']
    assert (refund['amount_fen'], refund['reason']) == (9900, 'after_sale')
    after = rewards_of(stack, referrer)
    assert after['rewards'][0]['status'] == 'revoked'
    ledger = list(reversed(after['ledger']))  # the API lists the newest first
    assert [e['action'] for e in ledger] == ['grant', 'hold', 'use', 'revoke']
    assert f'already used on order {order["id"]}' in ledger[-1]['note']
    assert courses_of(stack, newcomer) == []
    refunded = order_when(stack, newcomer, brought['order']['id'], lambda o: o['status'] == 'refunded',
                          'the after-sale refund completed')
    assert refunded['refund']['status'] == 'succeeded'
    assert [(r['refund_fee'], r['status']) for r in wechat_refunds(stack, brought['order']['out_trade_no'])] == [
        (9900, 'SUCCESS')]
    clean(flask_command(stack.env, 'audit', '--grace', '0'))
