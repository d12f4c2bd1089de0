"""The live H5 group page in a real (headless) browser, phone-sized, against the running system."""
import secrets
import time

import pytest

from tests.support.timing import bound

pytestmark = pytest.mark.e2e


def code(name):
    return f'{name}-{secrets.token_hex(4)}'


def member_count(page) -> int:
    return page.locator('#members .member img, #members .member .face').count()


def test_a_join_shows_on_another_members_screen_within_a_second_without_reload(stack, phone, shot):
    campaign = stack.new_campaign(group_size=3)
    _, share = stack.open_formed_group(campaign['id'], code('leader'))
    pages = []
    for _ in range(2):
        page = phone().new_page()
        page.goto(f'{stack.api}/g/{share}')
        page.wait_for_function('window.pinkePage && window.pinkePage.source.readyState === 1')
        pages.append(page)
    assert [member_count(p) for p in pages] == [1, 1]
    member = stack.login(code('m'))
    stack.call('PATCH', '/api/me', member, json={'nickname': '阿明'})
    joined = stack.join(member, share).json()
    paid_at = time.monotonic()
    stack.confirm(joined)
    for page in pages:
        page.wait_for_function('document.querySelectorAll("#members .face").length === 2', timeout=bound(1.5) * 1000)
    assert time.monotonic() - paid_at < bound(1.5)  # both screens within the second (plus the browser's paint)
    assert '阿明' in pages[0].inner_text('#members') and pages[1].inner_text('#seats-left') == '还差 1 人成团'
    assert pages[0].evaluate('performance.getEntriesByType("navigation").length') == 1  # no reload
    shot(pages[0], 'group-forming')


def test_the_countdown_reaches_zero_and_the_page_turns_failed_without_reload(stack, phone, shot):
    campaign = stack.new_campaign(group_size=3, duration_s=4)
    _, share = stack.open_formed_group(campaign['id'], code('leader'))
    page = phone().new_page()
    page.goto(f'{stack.api}/g/{share}')
    assert page.get_attribute('body', 'data-state') == 'forming'
    assert '剩余' in page.inner_text('#countdown')
    page.wait_for_function('document.body.dataset.state === "failed"', timeout=10_000)
    assert page.is_visible('#state-failed') and not page.is_visible('#state-forming')
    assert page.evaluate('performance.getEntriesByType("navigation").length') == 1
    shot(page, 'group-failed')


def test_the_full_journey_open_page_join_pay_in_the_sandbox_and_succeed(stack, phone, shot):
    campaign = stack.new_campaign(group_size=2)
    _, share = stack.open_formed_group(campaign['id'], code('leader'))
    page = phone().new_page()
    page.goto(f'{stack.api}/g/{share}')
    shot(page, 'journey-1-open')
    page.click('#join-button')
    page.fill('#login-name', '小李')
    page.click('#login-go')
    page.wait_for_selector('#paysheet:not([hidden])')
    assert page.inner_text('#pay-amount') == '¥99'
    shot(page, 'journey-2-pay')
    page.click('#pay-confirm')
    page.wait_for_function('document.body.dataset.state === "succeeded"', timeout=5000)
    assert '小李' in page.inner_text('#members')
    shot(page, 'journey-3-succeeded')
    group = stack.group(share)
    assert group['status'] == 'succeeded' and group['paid_count'] == 2


def test_a_full_group_sends_people_to_open_their_own_or_join_another(stack, phone, shot):
    campaign = stack.new_campaign(group_size=2, per_user_limit=3)
    _, full = stack.open_formed_group(campaign['id'], code('leader'))
    holder = stack.login(code('holder'))
    assert stack.join(holder, full).status_code == 201  # the last seat is held while they pay
    _, other = stack.open_formed_group(campaign['id'], code('other'))
    page = phone().new_page()
    page.goto(f'{stack.api}/g/{full}')
    assert page.get_attribute('body', 'data-state') == 'full'
    shot(page, 'group-full')
    page.click('#state-full a')
    page.wait_for_selector('#open-groups')
    assert page.locator(f'#open-groups li[data-share-code="{other}"]').count() == 1
    shot(page, 'campaign-open-groups')


def test_a_tiered_group_lights_up_its_tiers_live_and_says_how_many_more_lower_the_price(stack, phone, shot):
    """阶梯团 3 人 ¥99 / 5 人 ¥79: the page opens on the tiers, and as members pay the 3-person tier lights up and
    the line turns to how many more bring everyone to ¥79 — without a reload."""
    campaign = stack.new_campaign(tiers=[{'size': 3, 'price_fen': 9900}, {'size': 5, 'price_fen': 7900}],
                                  group_size=None, group_price_fen=None)
    _, share = stack.open_formed_group(campaign['id'], code('leader'))
    page = phone().new_page()
    page.goto(f'{stack.api}/g/{share}')
    page.wait_for_function('window.pinkePage && window.pinkePage.source.readyState === 1')
    assert page.inner_text('#seats-left') == '还差 2 人成团'
    assert page.locator('#tiers .tier').all_inner_texts() == ['¥99\n3 人', '¥79\n5 人']
    assert page.locator('#tiers .tier.reached').count() == 0
    for _ in range(2):
        member = stack.login(code('m'))
        stack.confirm(stack.join(member, share).json())
    page.wait_for_function('document.querySelectorAll("#tiers .tier.reached").length === 1', timeout=10_000)
    assert page.inner_text('#seats-left') == '已成团！再 2 人每人降到 ¥79'
    assert page.inner_text('#tier-line').startswith('再 2 人，每人降到 ¥79')
    assert page.evaluate('performance.getEntriesByType("navigation").length') == 1
    shot(page, 'group-tiered')


def test_a_free_leader_picks_one_of_several_courses_and_opens_without_paying(stack, phone, shot):
    """跨课程拼团 + 团长免单 on the campaign page: the leader picks the second course, taps 我来开团, no pay sheet
    appears, and the group page opens with the leader's pick under their avatar."""
    second = stack.admin('POST', '/courses', {'title': 'Go 入门', 'price_fen': 18900}).json()['course']
    campaign = stack.new_campaign(leader_price_fen=0, extra_course_ids=[second['id']], band_low_fen=15000,
                                  band_high_fen=25000)
    page = phone().new_page()
    page.goto(f'{stack.api}/c/{campaign["id"]}')
    assert '团长免单' in page.inner_text('main')
    page.select_option('#course-pick', str(second['id']))
    shot(page, 'campaign-cross-course')
    page.click('#open-group')
    page.fill('#login-name', '小周')
    page.click('#login-go')
    page.wait_for_url(f'{stack.api}/g/*', timeout=10_000)
    assert page.is_hidden('#paysheet')
    assert page.get_attribute('body', 'data-state') == 'forming'
    assert 'Go 入门' in page.inner_text('#members')
    share = page.url.rsplit('/', 1)[-1]
    group = stack.group(share)
    assert group['paid_count'] == 1 and group['members'][0]['course_id'] == second['id']
