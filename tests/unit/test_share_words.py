"""What every share says about a group: titles, prices, time left, the sharer's ref."""
import datetime as dt

import pytest

from groupbuy import referrals
from groupbuy.progress import Progress
from groupbuy.sharing import miniapp_path, share_title, status_line
from groupbuy.wording import deadline_text, time_left, yuan
from posters.pictures import scene_for

NOW = dt.datetime(2026, 5, 10, 4, 0)


def progress(**changes):
    values = dict(group_id=1, campaign_id=1, share_code='AbCdEf-_1234', status='forming',
                  course_title='Python入门', cover_url='', price_fen=9900, list_price_fen=19900, size=3, paid=1,
                  deadline_at=NOW + dt.timedelta(hours=3, minutes=12), leader_nickname='alice',
                  leader_avatar_url='', reserved=0)
    values.update(changes)
    return Progress(**values)


def test_a_card_with_room_says_seats_left_and_price():
    assert share_title(progress(), NOW) == '还差2人 ¥99 拼《Python入门》'


@pytest.mark.parametrize('changes, title', [
    ({'status': 'succeeded', 'paid': 3}, '已成团 · ¥99 拼《Python入门》'),
    ({'status': 'failed'}, '拼团已结束 · 《Python入门》'),
    ({'status': 'pending', 'deadline_at': None}, '¥99 一起拼《Python入门》'),
    ({'deadline_at': NOW - dt.timedelta(seconds=1)}, '拼团已结束 · 《Python入门》'),
])
def test_a_card_without_room_says_what_happened(changes, title):
    assert share_title(progress(**changes), NOW) == title


def test_the_progress_line_counts_seats_and_time_left():
    assert status_line(progress(), NOW) == '还差2人成团，剩 3小时12分钟'


@pytest.mark.parametrize('fen, text', [(9900, '99'), (9950, '99.5'), (9999, '99.99'), (1, '0.01'), (100, '1')])
def test_prices_are_written_as_people_read_them(fen, text):
    assert yuan(fen) == text


@pytest.mark.parametrize('seconds, text', [(0, '0分钟'), (30, '不到1分钟'), (600, '10分钟'), (3600, '1小时'),
                                           (90061, '1天1小时')])
def test_time_left_is_days_hours_or_minutes(seconds, text):
    assert time_left(seconds) == text


def test_deadlines_are_shown_in_beijing_time():
    assert deadline_text(dt.datetime(2026, 5, 10, 12, 0)) == '截止 5月10日 20:00（北京时间）'


def test_a_shared_path_carries_the_sharer():
    assert miniapp_path('pages/group/index', 'abc', '1xdeadbeef') == 'pages/group/index?code=abc&from=1xdeadbeef'
    assert miniapp_path('pages/group/index', 'abc', None) == 'pages/group/index?code=abc'


def test_a_ref_names_its_sharer_and_cannot_be_forged():
    ref = referrals.share_ref('secret', 12345)
    assert referrals.referrer_id('secret', ref) == 12345
    assert referrals.referrer_id('other-secret', ref) is None
    assert referrals.referrer_id('secret', referrals.share_ref('secret', 12346)[:-8] + ref[-8:]) is None
    for junk in (None, '', 'x', '1' * 40, ref.upper(), ref + 'a'):
        assert referrals.referrer_id('secret', junk) is None


def test_a_mini_program_scene_keeps_the_sharer_only_when_it_fits_32_characters():
    ref = referrals.share_ref('s', 42)
    assert scene_for('AbCdEf-_1234', ref) == f'AbCdEf-_1234.{ref}'
    assert scene_for('AbCdEf-_1234', referrals.share_ref('s', 2 ** 62)) == 'AbCdEf-_1234'
    assert scene_for('AbCdEf-_1234', None) == 'AbCdEf-_1234'
