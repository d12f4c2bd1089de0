"""Every page people look at, in Chromium at 360 px wide (the narrowest phone in common use), against the running
system: nothing makes the page scroll sideways, and no button (nor a link drawn as one) breaks over two lines.
Wide console tables may scroll, inside their own overflow-x container. Long names and titles on purpose: they are
what pushes a row wider. A screenshot of each page lands in test-artifacts/narrow-360/."""
import secrets
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import ARTIFACTS, PHONE
from tests.browser.test_console import PASSWORD, operator
from tests.e2e.test_room_live import beijing_minute, console
from tools.http_client import wait_until

pytestmark = pytest.mark.e2e
WIDTH = 360
NARROW = {**PHONE, 'viewport': {'width': WIDTH, 'height': 740}}
SHOTS = ARTIFACTS / 'narrow-360'
LONG_TITLE = 'Python 数据分析实战 30 讲：从零开始写出你的第一个爬虫、清洗数据并画出漂亮的图表'
LONG_NAMES = ('一位名字特别特别长的团长小明同学', 'alexander_the_great_group_leader_2026')
# What a page does wrong at this width. Lines of a button are counted from its text's boxes: a box that starts
# below the bottom of the line before it starts a new line (inline children of another size share a line).
LAYOUT = '''(width) => {
  const problems = [];
  const page = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
  if (page > width) problems.push(`the page is ${page}px wide`);
  const looksLikeButton = (el, s) => el.matches('button, .button, .join, [role=button]') ||
    (s.backgroundColor !== 'rgba(0, 0, 0, 0)' && parseFloat(s.paddingLeft) > 0) || parseFloat(s.borderTopWidth) > 0;
  for (const el of document.querySelectorAll('button, a')) {
    const s = getComputedStyle(el), box = el.getBoundingClientRect();
    if (!box.width || !box.height || s.visibility === 'hidden' || !looksLikeButton(el, s)) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    const rects = [...range.getClientRects()].filter(r => r.width > 0).sort((a, b) => a.top - b.top);
    let lines = 0, bottom = -Infinity;
    for (const r of rects) {
      if (r.top >= bottom - 1) { lines += 1; bottom = r.bottom; } else bottom = Math.max(bottom, r.bottom);
    }
    if (lines > 1) problems.push(`「${el.textContent.trim()}」 breaks over ${lines} lines`);
    if (box.right > width + 0.5 && !el.closest('.table-wrap')) problems.push(`「${el.textContent.trim()}」 sticks out`);
  }
  for (const table of document.querySelectorAll('table')) {
    if (table.getBoundingClientRect().width <= width) continue;
    let scroller = table.parentElement;
    const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    while (scroller && scroller !== document.body && !scrolls(scroller)) scroller = scroller.parentElement;
    if (!scroller || scroller === document.body) problems.push('a wide table outside a scrolling container');
    else if (scroller.getBoundingClientRect().right > width + 0.5) problems.push('a table scroller sticks out');
  }
  return problems;
}'''


@pytest.fixture
def narrow(browser):
    context = browser.new_context(**NARROW, locale='zh-CN')
    yield context
    context.close()


@pytest.fixture
def look(narrow):
    """`look(url, name, before=None)`: open `url` at 360 px (then `before(page)`, e.g. open a sheet), save its
    screenshot and return what it does wrong, as {name: [problem, ...]} (empty when nothing)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = narrow.new_page()

    def check(url, name, before=None):
        answer = page.goto(url)
        assert answer.status < 500, f'{url}: {answer.status}'
        if before:
            before(page)
        page.screenshot(path=str(SHOTS / f'{name}.png'), full_page=True)
        problems = page.evaluate(LAYOUT, WIDTH)  # not innerWidth: a phone widens it to fit what overflows
        return {name: problems} if problems else {}
    check.page = page
    return check


def person(stack, name: str) -> str:
    token = stack.login(f'narrow-{secrets.token_hex(4)}')
    assert stack.call('PATCH', '/api/me', token, json={'nickname': name}).status_code == 200
    return token


def formed_group(stack, campaign_id: int, leader: str) -> str:
    token = person(stack, leader)
    checkout = stack.open_group(token, campaign_id)
    if checkout['pay_params']:  # a free leader (团长免单) pays nothing
        assert stack.confirm(checkout).status_code == 200
    share = checkout['group']['share_code']
    wait_until(lambda: stack.group(share)['status'] == 'forming', what='group forming')
    return share


def sheet(button: str):
    """Tap `button` and wait for the sandbox's sign-in sheet it opens."""
    def open_sheet(page):
        page.click(button)
        page.wait_for_selector('#login:not([hidden])')
    return open_sheet


def test_every_h5_page_fits_a_360px_phone_with_buttons_on_one_line(stack, look):
    campaign = stack.new_campaign(title=LONG_TITLE, group_size=5)
    shares = [formed_group(stack, campaign['id'], name) for name in LONG_NAMES]
    member = person(stack, '另一位名字也很长的同学阿明')
    stack.confirm(stack.join(member, shares[0]).json())
    second = stack.admin('POST', '/courses', {'title': 'Go 语言并发编程：从 goroutine 到分布式系统',
                                              'price_fen': 18900}).json()['course']
    tiers = [{'size': 3, 'price_fen': 9900}, {'size': 5, 'price_fen': 7900}, {'size': 8, 'price_fen': 6900}]
    tiered = stack.new_campaign(title=LONG_TITLE, tiers=tiers, group_size=None, group_price_fen=None,
                                leader_price_fen=0, extra_course_ids=[second['id']], band_low_fen=15000,
                                band_high_fen=25000)
    tiered_share = formed_group(stack, tiered['id'], LONG_NAMES[0])
    ops = console(stack)
    starts, _ = beijing_minute(3600)
    room = ops.create_room(campaign['id'], '开课前答疑直播：零基础怎么入门 Python 数据分析', starts)
    ops.say(room, '资料在这里 https://example.com/a/very/long/path/without/any/spaces/that/could/break/a/line',
            author='王老师')
    api, problems = stack.api, {}
    problems |= look(f'{api}/c/{campaign["id"]}', 'campaign')
    problems |= look(f'{api}/c/{tiered["id"]}', 'campaign-tiered-free-leader')
    problems |= look(f'{api}/c/{campaign["id"]}', 'campaign-login-sheet', sheet('#open-group'))
    problems |= look(f'{api}/g/{shares[0]}', 'group-forming')
    problems |= look(f'{api}/g/{shares[1]}', 'group-login-sheet', sheet('#join-button'))
    problems |= look(f'{api}/g/{tiered_share}', 'group-tiered')
    problems |= look(f'{api}/r/{room}', 'room')
    problems |= look(f'{api}/c/987654321', 'message-no-campaign')
    problems |= look(f'{api}/g/nosuchgroup00', 'message-no-group')
    assert problems == {}


def sign_in(page, stack, role: str) -> None:
    page.context.clear_cookies()
    page.goto(f'{stack.api}/admin/login')
    page.fill('input[name=name]', operator(stack, role))
    page.fill('input[name=password]', PASSWORD)
    page.click('button[type=submit]')
    page.wait_for_url(f'{stack.api}/admin/')


def first_link(page, url: str) -> str:
    page.goto(url)
    return page.locator('.table-wrap a').first.get_attribute('href')


def test_every_console_page_fits_a_360px_phone_with_wide_tables_scrolling_in_place(stack, look):
    campaign = stack.new_campaign(title=LONG_TITLE, group_size=3)
    formed_group(stack, campaign['id'], LONG_NAMES[1])
    ops = console(stack)
    starts, _ = beijing_minute(3600)
    room = ops.create_room(campaign['id'], '开课前答疑直播：零基础怎么入门', starts)
    ops.say(room, '欢迎来到直播间', author='王老师')
    broadcast = ops.post('/broadcasts', type='campaign', campaign_id=str(campaign['id']), message='今晚 8 点前成团')
    api, c = stack.api, campaign['id']
    problems = look(f'{api}/admin/login', 'console-login')
    sign_in(look.page, stack, 'operator')
    pages = {'overview': '/admin/', 'numbers': f'/admin/numbers?campaign_id={c}', 'campaigns': '/admin/campaigns',
             'campaign-new': '/admin/campaigns/new', 'campaign': f'/admin/campaigns/{c}',
             'experiment': f'/admin/campaigns/{c}/experiment', 'groups': '/admin/groups',
             'group': first_link(look.page, f'{api}/admin/groups?campaign_id={c}'), 'rooms': '/admin/rooms',
             'room': f'/admin/rooms/{room}', 'risk': '/admin/risk', 'refunds': '/admin/refunds',
             'broadcasts': '/admin/broadcasts', 'broadcast': urlsplit(broadcast.headers['Location']).path,
             'users': '/admin/users', 'user': first_link(look.page, f'{api}/admin/users?q={LONG_NAMES[1]}'),
             'simulation': '/admin/simulation', 'actions': '/admin/actions'}
    for name, path in pages.items():
        problems |= look(f'{api}{path}', f'console-{name}')
    sign_in(look.page, stack, 'finance')
    problems |= look(f'{api}/admin/audit', 'console-audit')
    problems |= look(f'{api}/admin/campaigns/new', 'console-403')  # the console's message page
    assert problems == {}
