"""Issue 9 §2: one group, 90,061 s before its deadline, in the words of every door — the push, the H5
group page, the bot's 「我的拼团」 and the poster — on the real database and Redis. The same value must
read the same everywhere: '1天1小时' (never '25小时1分钟'), the deadline as '5月10日 14:30' in Beijing
time (never '05月10日')."""
import datetime as dt

import pytest

import templates_msg
from bot import conversation
from groupbuy import groups, identity, notifications, nudges
from groupbuy.clock import ManualClock
from groupbuy.models import Group
from groupbuy.progress import progress_of
from posters.drawing import PosterContent, poster_lines
from posters.pictures import poster_words
from tests.integration.test_bot_conversation import push, runtime
from tests.support.builders import campaign, pay, user
from tests.support.doubles import RecordingMessenger

DURATION_S = 100_000
LEFT_S = 90_061  # 1 day, 1 hour, 1 minute, 1 second
TIME_WORDS = '1天1小时'


@pytest.fixture
def clock():
    """Opened 2026-05-09 04:00 UTC: the deadline is 5月10日 15:46 in Beijing (one-digit month and day,
    where zero padding would show)."""
    return ManualClock(dt.datetime(2026, 5, 9, 4, 0))


@pytest.fixture
def group(deps, clock):
    """A forming group (leader signed in through the mini-program and following the official account,
    one friend paid, one seat left) whose deadline is LEFT_S seconds away."""
    deps.messenger = RecordingMessenger()
    deps.quiet_hours = None
    leader = identity.sign_in_miniapp(deps, 'mp-wen', 'union-wen').user
    identity.sign_in_official_account(deps, 'oa-wen', 'union-wen', channel='oa_follow')
    notifications.record_consents(deps, leader, ['tpl-group_opened', 'tpl-deadline_nudge'])
    opened = groups.open_group(deps, leader, campaign(group_size=3, duration_s=DURATION_S).id, '127.0.0.1')
    pay(deps, opened.order)
    pay(deps, groups.join_group(deps, user(), opened.group.share_code, '127.0.0.1').order)
    clock.advance(DURATION_S - LEFT_S)
    g = Group.get_by_id(opened.group.id)
    assert (g.deadline_at - clock.now()).total_seconds() == LEFT_S
    return g


@pytest.fixture
def app(make_app, clock):
    application = make_app()
    application.extensions['pinke'].deps.clock = clock  # the page reads the test's time
    return application


def beijing_words(t: dt.datetime) -> str:
    """The expected date, worked out here rather than by the code under test: UTC + 8 h, unpadded."""
    b = t + dt.timedelta(hours=8)
    return f'{b.month}月{b.day}日 {b.hour:02d}:{b.minute:02d}'


def pushed(deps, kind):
    """The rendered text and the subscribe-message values of what the messenger pushed for `kind`."""
    deps.jobs.run()
    params = [p for channel, _, k, p in deps.messenger.sent if k == kind and channel == 'subscribe']
    assert len(params) == 1, deps.messenger.sent
    message = templates_msg.render(kind, params[0])
    return message.text, {k: v['value'] for k, v in message.subscribe_data.items()}


def test_the_push_the_page_the_bot_and_the_poster_say_the_same_time_left_and_deadline(deps, clock, group, app):
    deadline = beijing_words(group.deadline_at)

    nudges.send_nudge(deps, group.id, 7200)
    nudge, nudge_values = pushed(deps, 'deadline_nudge')
    opened, opened_values = pushed(deps, 'group_opened')

    page = app.test_client().get(f'/g/{group.share_code}')
    assert page.status_code == 200
    html = page.get_data(as_text=True)

    bot = conversation.answer(runtime(deps), push('oa-wen', MsgType='text', Content='我的拼团', MsgId='w1'), 'w1')

    words = poster_words(progress_of(group.share_code), clock.now())
    poster = poster_lines(PosterContent(**words, size=group.size, paid=2, code_png=b''))

    assert deadline == '5月10日 15:46'
    assert f'{TIME_WORDS}后截止' in nudge and nudge_values['thing3'] == f'{TIME_WORDS}后截止'
    assert f'还差1人成团，剩 {TIME_WORDS}<' in html
    assert f'还差1人成团，剩 {TIME_WORDS}\n' in bot
    assert poster['progress'] == f'还差1人成团，剩 {TIME_WORDS}'

    assert f'{deadline} 截止' in opened and opened_values['time3'] == deadline  # WeChat's `time` takes it as is
    assert f'截止 {deadline}（北京时间）' in html
    assert poster['deadline'] == f'截止 {deadline}（北京时间）'

    assert '¥99<' in html and poster['price'] == '¥99'
    for seen in (nudge, opened, *nudge_values.values(), *opened_values.values(), html, bot, *poster.values()):
        assert '25小时' not in seen and '05月' not in seen
