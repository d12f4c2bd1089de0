"""One way to write prices, time left and Beijing dates (groupbuy/wording.py), and pushes carrying those
words still keep WeChat's subscribe-message keyword rules."""
import datetime as dt

import pytest

import templates_msg
from groupbuy import wording
from wechat_sandbox import templates as wechat_rules


@pytest.mark.parametrize('seconds, text', [
    (-5, '0分钟'), (0, '0分钟'), (1, '不到1分钟'), (59, '不到1分钟'), (60, '1分钟'), (1500, '25分钟'),
    (3599, '59分钟'), (3600, '1小时'), (11100, '3小时5分钟'), (86399, '23小时59分钟'), (86400, '1天'),
    (90061, '1天1小时'), (2 * 86400 + 3599, '2天'), (3 * 86400 + 7200, '3天2小时'),
])
def test_time_left_gives_the_two_largest_units_never_rounding_up(seconds, text):
    assert wording.time_left(seconds) == text


@pytest.mark.parametrize('utc, text', [
    (dt.datetime(2026, 5, 10, 6, 30), '5月10日 14:30'),
    (dt.datetime(2026, 1, 4, 16, 5), '1月5日 00:05'),      # past midnight in Beijing: the next day
    (dt.datetime(2026, 12, 31, 15, 59), '12月31日 23:59'),
    (dt.datetime(2026, 12, 31, 16, 0), '1月1日 00:00'),
])
def test_dates_are_beijing_time_month_and_day_unpadded(utc, text):
    assert wording.beijing_time(utc) == text
    assert wording.deadline_text(utc) == f'截止 {text}（北京时间）'


def test_no_time_is_no_words():
    assert wording.beijing_time(None) == '' and wording.deadline_text(None) == ''


@pytest.mark.parametrize('fen, text', [(0, '0'), (1, '0.01'), (10, '0.1'), (9900, '99'), (9950, '99.5'),
                                       (1234567, '12345.67'), (1000000, '10000')])
def test_prices_in_yuan_without_trailing_zeros(fen, text):
    assert wording.yuan(fen) == text


@pytest.mark.parametrize('deadline, seconds_left, fen', [
    (dt.datetime(2026, 12, 31, 15, 59), 86400 * 29 + 86399, 999999999),  # the longest words each can take
    (dt.datetime(2026, 1, 4, 16, 5), 30, 1),
])
def test_every_push_carrying_these_words_keeps_wechats_keyword_rules(deadline, seconds_left, fen):
    """`time` keywords take the date as written ('12月31日 23:59'), `thing`s fit 20 characters,
    `amount` takes the yuan; what WeChat would refuse with 47003 (rules as the sandbox enforces them)."""
    facts = {'course': 'Python 入门', 'seats_left': 2, 'deadline': wording.beijing_time(deadline),
             'time_left': wording.time_left(seconds_left), 'amount': wording.yuan(fen), 'share_code': 'AbCdEf',
             'joiner': 'bob', 'message': '今晚答疑', 'page': 'pages/index/index'}
    for kind in templates_msg.KINDS:
        data = templates_msg.render(kind, facts).subscribe_data
        keywords = wechat_rules.SUBSCRIBE[templates_msg.template_ids(kind, templates_msg.default_template_ids())[0]]
        assert wechat_rules.data_problem(keywords, data) is None, (kind, data)
    nudge = templates_msg.render('deadline_nudge', facts).subscribe_data
    assert nudge['thing3']['value'] == f'{facts["time_left"]}后截止'  # fits whole: never cut to '…'


def test_times_go_out_as_utc_iso_with_a_z_whatever_their_microseconds_or_zone():
    import datetime as dt

    from groupbuy.clock import iso
    assert iso(dt.datetime(2026, 11, 28, 1, 2, 3)) == '2026-11-28T01:02:03Z'
    assert iso(dt.datetime(2026, 11, 28, 1, 2, 3, 450)) == '2026-11-28T01:02:03.000450Z'
    beijing = dt.timezone(dt.timedelta(hours=8))
    assert iso(dt.datetime(2026, 11, 28, 9, 2, 3, tzinfo=beijing)) == '2026-11-28T01:02:03Z'
    assert iso(None) is None
