"""The warm-up live room's H5 page in headless Chromium at 360 px, against the running system: a lecturer's post
arrives live, a visitor signs in (sandbox) and asks, the answer arrives live, and 「去拼团」 goes to the campaign.
Screenshots land in test-artifacts/."""
import time

import pytest

from tests.browser.conftest import PHONE
from tests.e2e.test_room_live import beijing_minute, console
from tests.support.timing import bound

pytestmark = pytest.mark.e2e
NARROW = {**PHONE, 'viewport': {'width': 360, 'height': 740}}


@pytest.fixture
def narrow_phone(browser):
    context = browser.new_context(**NARROW, locale='zh-CN')
    yield context
    context.close()


def test_a_post_arrives_live_a_visitor_asks_and_the_join_button_goes_to_the_campaign(stack, narrow_phone, shot):
    ops = console(stack)
    campaign = stack.new_campaign(title='直播预热课')
    starts, _ = beijing_minute(3600)
    room = ops.create_room(campaign['id'], '开课前答疑直播', starts, stream_url='https://127.0.0.1:9/live/room.m3u8')
    ops.say(room, '欢迎来到直播间，八点准时开始', author='王老师')
    page = narrow_phone.new_page()
    page.goto(f'{stack.api}/r/{room}')
    page.wait_for_function('window.pinkeRoom && window.pinkeRoom.source.readyState === 1')
    assert page.locator('#posts .post').count() == 1 and page.is_visible('#video')
    assert page.inner_text('#room-status') == '即将开播' and '开播' in page.inner_text('#when')

    said_at = time.monotonic()
    ops.say(room, '今晚讲 Python 入门路线图', author='王老师')
    page.wait_for_function('document.querySelectorAll("#posts .post").length === 2', timeout=bound(1.5) * 1000)
    assert time.monotonic() - said_at < bound(1.5)
    assert '今晚讲 Python 入门路线图' in page.inner_text('#posts')
    assert page.evaluate('performance.getEntriesByType("navigation").length') == 1  # no reload

    page.fill('#ask-text', '零基础能跟上吗？')
    page.click('#ask-go')
    page.wait_for_selector('#login:not([hidden])')
    page.fill('#login-name', '小周')
    page.click('#login-go')
    page.wait_for_function('document.getElementById("ask-note").textContent.indexOf("已提交") >= 0', timeout=10_000)
    asked = stack.call('GET', f'/api/rooms/{room}').json()
    assert asked['questions'] == []  # not public until answered
    me = page.evaluate(f'''fetch("/api/rooms/{room}", {{headers: {{Authorization: "Bearer " +
        localStorage.getItem("pinke_token")}}}}).then(r => r.json()).then(v => v.me)''')
    assert me == {'subscribed': False, 'muted': False, 'muted_until': None}  # signed in: the visit counted
    listing = ops.http.get(f'{stack.api}/admin/rooms/{room}', timeout=10).text
    qid = int(listing.split('data-question="', 1)[1].split('"', 1)[0])
    ops.post(f'/rooms/{room}/questions/{qid}/answer', answer='能，从安装讲起', answered_by='王老师')
    page.wait_for_function('document.getElementById("questions").textContent.indexOf("从安装讲起") >= 0',
                           timeout=bound(1.5) * 1000)
    assert '零基础能跟上吗？' in page.inner_text('#questions') and '小周' in page.inner_text('#questions')

    assert page.evaluate('document.documentElement.scrollWidth') <= 360  # nothing wider than the phone
    box = page.locator('#join-button').bounding_box()
    assert box['x'] >= 0 and box['x'] + box['width'] <= 360 and box['y'] + box['height'] <= 740  # in view
    shot(page, 'room-360')
    page.click('#join-button')
    page.wait_for_url(f'{stack.api}/c/{campaign["id"]}')
    assert '直播预热课' in page.inner_text('body')


def test_a_visitor_subscribes_to_the_reminder_from_the_page(stack, narrow_phone, shot):
    ops = console(stack)
    campaign = stack.new_campaign()
    starts, _ = beijing_minute(7200)
    room = ops.create_room(campaign['id'], '下周直播', starts)
    page = narrow_phone.new_page()
    page.goto(f'{stack.api}/r/{room}')
    page.click('#subscribe')
    page.fill('#login-name', '小吴')
    page.click('#login-go')
    page.wait_for_function('document.getElementById("subscribe").textContent === "已预约提醒"', timeout=10_000)
    shot(page, 'room-subscribed')
    page.reload()
    page.wait_for_function('document.getElementById("subscribe").disabled === true', timeout=10_000)
