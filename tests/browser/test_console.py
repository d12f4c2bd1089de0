"""The operator console in Chromium against the running system (issue 10): sign in, create and pause a
campaign, retry a failed refund, send a broadcast and watch it finish; a role without the right gets 403.
Screenshots land in test-artifacts/."""
import secrets

import pytest
import requests

from tests.support.system import flask_command
from tools.http_client import wait_until
from tests.support.timing import bound

pytestmark = pytest.mark.e2e
PASSWORD = 'console-pass-123'


def operator(stack, role: str) -> str:
    name = f'{role}-{secrets.token_hex(3)}'
    made = flask_command(stack.env, 'admin', 'create', name, '--role', role, '--password', PASSWORD)
    assert made.returncode == 0, made.stderr
    return name


def signed_in(stack, phone, role: str, shot=None):
    page = phone().new_page()
    page.goto(f'{stack.api}/admin/')
    assert '/admin/login' in page.url
    if shot:
        shot(page, 'console-login')
    page.fill('input[name=name]', operator(stack, role))
    page.fill('input[name=password]', PASSWORD)
    page.click('button[type=submit]')
    page.wait_for_url(f'{stack.api}/admin/')
    return page


def test_an_operator_signs_in_creates_a_campaign_and_pauses_it(stack, phone, shot):
    page = signed_in(stack, phone, 'operator', shot)
    shot(page, 'console-overview')
    title = f'浏览器课程 {secrets.token_hex(2)}'
    page.goto(f'{stack.api}/admin/campaigns')
    page.fill('input[name=title]', title)
    page.fill('input[name=price_fen]', '19900')
    page.click('text=创建课程')
    page.wait_for_selector('.flash')
    page.goto(f'{stack.api}/admin/campaigns/new')
    page.select_option('select[name=course_id]',
                       page.locator('select[name=course_id] option', has_text=title).get_attribute('value'))
    page.fill('input[name=group_size]', '3')
    page.fill('input[name=duration_s]', '86400')
    page.fill('input[name=group_price_fen]', '9900')
    page.select_option('select[name=status]', 'active')
    shot(page, 'console-new-campaign')
    page.click('text=创建活动')
    page.wait_for_selector('h1:has-text("活动 #")')
    campaign_id = int(page.inner_text('h1').split('#')[1].split()[0])
    page.goto(f'{stack.api}/admin/campaigns')
    page.click(f'[data-move="pause-{campaign_id}"]')
    page.wait_for_selector('.flash')
    assert 'active → paused' in page.inner_text('.flash')
    shot(page, 'console-campaigns')
    listed = requests.get(f'{stack.api}/api/campaigns', timeout=5).json()['campaigns']
    assert campaign_id not in [c['id'] for c in listed]  # a paused campaign no longer sells


def test_a_role_without_the_right_gets_403(stack, phone, shot):
    page = signed_in(stack, phone, 'analyst')
    answer = page.goto(f'{stack.api}/admin/campaigns/new')
    assert answer.status == 403 and '没有权限' in page.inner_text('h1')
    shot(page, 'console-403')


def test_finance_retries_a_refund_wechat_closed_and_it_goes_through(stack, phone, shot):
    requests.post(stack.sandbox + '/sandbox/refunds/outcome-next', json={'count': 1, 'refund_status': 'REFUNDCLOSE'},
                  timeout=5).raise_for_status()
    campaign = stack.new_campaign(group_size=3, duration_s=2)
    stack.open_formed_group(campaign['id'], f'lonely-{secrets.token_hex(3)}')
    failed = wait_until(lambda: stack.admin('GET', '/refunds?status=failed').json()['refunds'],
                        timeout=bound(30), what='a failed refund')
    refund_id = failed[0]['id']
    page = signed_in(stack, phone, 'finance')
    page.goto(f'{stack.api}/admin/refunds')
    shot(page, 'console-refunds-failed')
    page.click(f'[data-retry="{refund_id}"]')
    page.wait_for_selector('.flash')
    assert f'退款 #{refund_id} 已重新提交' in page.inner_text('.flash')
    done = wait_until(lambda: [r for r in stack.admin('GET', '/refunds?status=succeeded').json()['refunds']
                               if r['id'] == refund_id], timeout=bound(30), what='the retried refund to succeed')
    assert done[0]['out_refund_no'].endswith('-2')  # sent again under the next number, as WeChat requires


def test_an_operator_sends_a_broadcast_and_watches_it_finish(stack, phone, shot):
    campaign = stack.new_campaign(group_size=3)
    stack.open_formed_group(campaign['id'], f'reader-{secrets.token_hex(3)}')
    page = signed_in(stack, phone, 'operator')
    page.goto(f'{stack.api}/admin/broadcasts')
    page.select_option('select[name=type]', 'campaign')
    page.select_option('select[name=campaign_id]', str(campaign['id']))
    page.fill('textarea[name=message]', '今晚 8 点前成团，课程马上开通')
    page.click('text=预览触达人数')
    page.wait_for_selector('#reach')
    assert page.inner_text('#send') == '发送给 1 人'
    page.click('#send')
    page.wait_for_function('document.getElementById("status").textContent === "done"', timeout=bound(20) * 1000)
    assert page.inner_text('#total') == '1' and page.evaluate('performance.getEntriesByType("navigation").length') == 1
    shot(page, 'console-broadcast-done')



def test_an_analyst_sees_the_charts_and_exports_a_csv(stack, phone, shot):
    campaign = stack.new_campaign(group_size=2)
    _, share = stack.open_formed_group(campaign['id'], f'lead-{secrets.token_hex(3)}')
    stack.confirm(stack.join(stack.login(f'friend-{secrets.token_hex(3)}'), share).json())
    wait_until(lambda: stack.group(share)['status'] == 'succeeded', timeout=bound(15), what='the group to succeed')
    page = signed_in(stack, phone, 'analyst')
    page.goto(f'{stack.api}/admin/numbers?campaign_id={campaign["id"]}')
    assert page.locator('.charts svg').count() >= 5
    assert page.inner_text('[data-metric="success_rate"] b') == '100.0%'
    shot(page, 'console-numbers')
    with page.expect_download() as download:
        page.click('#exports a:has-text("campaigns")')
    path = download.value.path()
    text = open(path, encoding='utf-8-sig').read().splitlines()
    assert download.value.suggested_filename.startswith('pinke-campaigns-c') and text[1].startswith(f'{campaign["id"]},')


def test_an_operator_approves_a_group_held_for_review_on_the_risk_page(stack, phone, shot):
    campaign = stack.new_campaign(group_size=5)
    _, share = stack.open_formed_group(campaign['id'], f'viral-{secrets.token_hex(3)}')
    for n in range(4):  # four brand-new accounts fill it: held for review
        member = stack.login(f'newbie-{n}-{secrets.token_hex(3)}')
        checkout = stack.call('POST', f'/api/groups/{share}/join', member,
                              headers={'X-Pinke-Device': f'newbie-device-{secrets.token_hex(8)}'}).json()
        stack.confirm(checkout)
    wait_until(lambda: stack.group(share)['status'] == 'reviewing', timeout=bound(15), what='the group in review')
    page = signed_in(stack, phone, 'operator')
    page.goto(f'{stack.api}/admin/risk')
    held = page.locator(f'[data-share="{share}"]')
    assert 'fresh_fill' in held.inner_text()
    shot(page, 'console-risk-review')
    group_id = held.get_attribute('data-held')
    page.click(f'[data-approve="{group_id}"]')
    page.wait_for_selector('.flash')
    assert '通过，已成团' in page.inner_text('.flash')
    wait_until(lambda: stack.group(share)['status'] == 'succeeded', timeout=bound(10), what='success')


def test_an_operator_creates_a_tiered_campaign_and_sees_its_tiers(stack, phone, shot):
    page = signed_in(stack, phone, 'operator')
    title = f'阶梯课程 {secrets.token_hex(2)}'
    page.goto(f'{stack.api}/admin/campaigns')
    page.fill('input[name=title]', title)
    page.fill('input[name=price_fen]', '19900')
    page.click('text=创建课程')
    page.wait_for_selector('.flash')
    page.goto(f'{stack.api}/admin/campaigns/new')
    page.select_option('select[name=course_id]',
                       page.locator('select[name=course_id] option', has_text=title).get_attribute('value'))
    page.fill('input[name=duration_s]', '86400')
    page.fill('input[name=leader_price_fen]', '0')
    for row, (size, price) in enumerate((('3', '9900'), ('5', '7900'))):
        page.locator('input[name=tier_size]').nth(row).fill(size)
        page.locator('input[name=tier_price_fen]').nth(row).fill(price)
    page.select_option('select[name=reward_kind]', 'points')
    page.fill('input[name=reward_points]', '100')
    page.select_option('select[name=status]', 'active')
    shot(page, 'console-new-tiered-campaign')
    page.click('text=创建活动')
    page.wait_for_selector('h1:has-text("活动 #")')
    campaign_id = int(page.inner_text('h1').split('#')[1].split()[0])
    assert page.inner_text('#growth-tiers').startswith('3人 ¥99 / 5人 ¥79')
    assert page.inner_text('#growth-free-leader') == '团长免单' and '100 积分' in page.inner_text('#growth-reward')
    shot(page, 'console-tiered-campaign')
    sold = [c for c in requests.get(f'{stack.api}/api/campaigns', timeout=5).json()['campaigns']
            if c['id'] == campaign_id]
    assert sold and sold[0]['tiers'] == [{'size': 3, 'price_fen': 9900}, {'size': 5, 'price_fen': 7900}]
