"""The console's numbers against hand-computed fixtures, built through the real transitions on the real
database and Redis with a manual clock.

Two Beijing days (UTC+8; 5月10日 runs 2026-05-09 16:00 → 05-10 16:00 UTC). Campaign A: 3 seats, ¥99, an
hour; campaign B (another course): 3 seats, ¥50, an hour, auto-complete at half the seats.

  G1 (A) leader 01:00, members 01:10 and 01:25: filled at 01:25 (25 minutes to fill)
  G3 (A) leader 01:25, a member reserves at 01:26 and never pays; nudged at 02:10 (15 min left, 2 short);
         failed at 02:25, the leader's ¥99 refunded at 02:26
  G2 (B) leader 01:30, a member 01:40: at 02:30 2 of 3 paid → succeeded by the ratio (virtual)
  G4 (A) leader 15:30 (5月10日 23:30), a member 15:40; nudged at 16:15 (1 short); failed at 16:30
         (5月11日 00:30) — opened on day one, decided on day two; both refunded at 16:31
  G5 (A) leader 17:00 (5月11日): still forming
  G6 (A) opened 17:05, the leader never pays: cancelled, never counted
Two newcomers arrive through G1's share (the H5 page and the mini-program), one without a share.
"""
import csv
import datetime as dt
import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from groupbuy import analytics, catalog, groups, identity, nudges, referrals, settlement
from groupbuy.clock import ManualClock
from groupbuy.models import Event, Refund, Seat
from groupbuy.refunds import RefundNotice, record_refund_notice
from tests.support.builders import campaign, pay, user
from tests.support.statements import counted

DAY1, DAY2 = dt.date(2026, 5, 10), dt.date(2026, 5, 11)
ADMIN = {'Authorization': 'Bearer analytics-admin'}
REPORT_BUDGET = 28  # 5 aggregates for the summary and days, 5 + 1 for campaigns, 5 + 1 for courses, 1 time to
# fill, 3 funnel, 3 nudge effect, 3 leaders, 1 room viewers: none per group


@pytest.fixture
def clock():
    return ManualClock(dt.datetime(2026, 5, 10, 1, 0))  # 09:00 on 5月10日 in Beijing


def at(clock, hour, minute, day=10):
    target = dt.datetime(2026, 5, day, hour, minute)
    assert target >= clock.now()
    clock.advance((target - clock.now()).total_seconds())


def opened(deps, c, leader):
    checkout = groups.open_group(deps, leader, c.id, '127.0.0.1')
    assert pay(deps, checkout.order) == 'group_formed'
    return checkout.group


def joined(deps, group, member):
    return pay(deps, groups.join_group(deps, member, group.share_code, '127.0.0.1').order)


def refunds_confirmed(deps):
    deps.jobs.run()
    for refund in Refund.select().where(Refund.status == 'submitted'):
        record_refund_notice(deps, RefundNotice(refund.out_refund_no, 'SUCCESS', 'rf', refund.amount_fen))


def two_days(deps, clock):
    a = campaign(group_size=3, duration_s=3600, group_price_fen=9900)
    other = catalog.create_course('数据分析', 15000)
    b = catalog.create_campaign(course_id=other.id, group_size=3, duration_s=3600, group_price_fen=5000,
                                auto_complete_ratio=0.5)
    empty = campaign()
    leaders = SimpleNamespace(**{g: user(f'leader-of-{g}') for g in ('g1', 'g3', 'g2', 'g4', 'g5', 'g6')})

    g1 = opened(deps, a, leaders.g1)
    assert referrals.record_share(deps, g1.id, a.id, leaders.g1.id, str(leaders.g1.id))
    assert not referrals.record_share(deps, g1.id, a.id, leaders.g1.id, str(leaders.g1.id))  # the same share
    for visitor in ('visitor-a', 'visitor-b'):
        assert referrals.record_share_click(deps, g1.id, a.id, None, leaders.g1.id, 'h5', visitor)
    at(clock, 1, 5)
    identity.sign_in_official_account(deps, 'oa-newcomer', referrer_id=leaders.g1.id, share_code=g1.share_code)
    identity.sign_in_miniapp(deps, 'mp-newcomer', referrer_id=leaders.g1.id, share_code=g1.share_code)
    identity.sign_in_miniapp(deps, 'mp-walked-in')  # no share: not a newcomer through a group
    identity.sign_in_miniapp(deps, 'mp-newcomer', share_code=g1.share_code)  # signing in again: not new
    at(clock, 1, 10)
    assert joined(deps, g1, user()) == 'seated'
    at(clock, 1, 25)
    assert joined(deps, g1, user()) == 'group_succeeded'

    g3 = opened(deps, a, leaders.g3)
    at(clock, 1, 26)
    lapsed = groups.join_group(deps, user(), g3.share_code, '127.0.0.1')
    at(clock, 1, 30)
    g2 = opened(deps, b, leaders.g2)
    at(clock, 1, 32)
    assert settlement.release_seat(deps, Seat.get(Seat.order == lapsed.order.id).id)
    at(clock, 1, 40)
    assert joined(deps, g2, user()) == 'seated'
    at(clock, 2, 10)
    assert nudges.send_nudge(deps, g3.id, 900) == 1
    at(clock, 2, 25)
    assert settlement.settle_group(deps, g3.id) == 'failed'
    at(clock, 2, 26)
    refunds_confirmed(deps)
    at(clock, 2, 30)
    assert settlement.settle_group(deps, g2.id) == 'succeeded'

    at(clock, 15, 30)
    g4 = opened(deps, a, leaders.g4)
    assert referrals.record_share(deps, g4.id, a.id, leaders.g4.id, str(leaders.g4.id))
    assert referrals.record_share_click(deps, g4.id, a.id, None, leaders.g4.id, 'card', 'visitor-c')
    at(clock, 15, 40)
    assert joined(deps, g4, user()) == 'seated'
    at(clock, 16, 15)
    assert nudges.send_nudge(deps, g4.id, 900) == 2
    at(clock, 16, 30)
    assert settlement.settle_group(deps, g4.id) == 'failed'
    at(clock, 16, 31)
    refunds_confirmed(deps)

    at(clock, 17, 0)
    g5 = opened(deps, a, leaders.g5)
    at(clock, 17, 5)
    never_paid = groups.open_group(deps, leaders.g6, a.id, '127.0.0.1')
    assert referrals.record_share_click(deps, never_paid.group.id, a.id, None, None, 'h5', 'visitor-d')
    at(clock, 17, 11)
    assert settlement.release_seat(deps, Seat.get(Seat.order == never_paid.order.id).id)
    return SimpleNamespace(a=a, b=b, empty=empty, leaders=leaders, g1=g1, g2=g2, g3=g3, g4=g4, g5=g5)


def numbers(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != 'days'}


NOTHING = dict(groups_opened=0, groups_forming=0, groups_succeeded=0, groups_failed=0, groups_virtual=0,
               success_rate=None, real_success_rate=None, paid_orders=0, paid_fen=0, avg_order_fen=None,
               refunds=0, refunded_fen=0, net_revenue_fen=0, newcomers=0, viral_coefficient=None)


def test_all_time_counts_every_group_once_by_its_own_moments(deps, clock):
    two_days(deps, clock)
    got = analytics.summary(analytics.Scope())
    assert numbers(got) == dict(
        groups_opened=5, groups_forming=1,  # G1–G5; G6's leader never paid
        groups_succeeded=2, groups_failed=2, groups_virtual=1,  # G1, G2 (virtual); G3, G4
        success_rate=0.5, real_success_rate=0.25,
        paid_orders=9, paid_fen=7 * 9900 + 2 * 5000, avg_order_fen=8811,  # 79300 / 9 = 8811.1
        refunds=3, refunded_fen=3 * 9900, net_revenue_fen=79300 - 29700,
        newcomers=2, viral_coefficient=0.4)
    assert [d['day'] for d in got['days']] == ['2026-05-10', '2026-05-11']
    for name in analytics.COUNTS:  # the totals are the days added up
        assert sum(d[name] for d in got['days']) == got[name], name


def test_a_range_that_cuts_a_groups_life_counts_its_opening_and_its_end_on_their_own_days(deps, clock):
    two_days(deps, clock)
    day1 = analytics.summary(analytics.Scope(first_day=DAY1, last_day=DAY1))
    assert numbers(day1) == dict(
        groups_opened=4, groups_forming=0,  # G1, G3, G2 and G4 (its leader paid at 23:30 Beijing)
        groups_succeeded=2, groups_failed=1, groups_virtual=1,  # G4 failed after midnight: not here
        success_rate=0.6667, real_success_rate=0.3333,
        paid_orders=8, paid_fen=6 * 9900 + 2 * 5000, avg_order_fen=8675,
        refunds=1, refunded_fen=9900, net_revenue_fen=69400 - 9900,
        newcomers=2, viral_coefficient=0.5)
    day2 = analytics.summary(analytics.Scope(first_day=DAY2, last_day=DAY2))
    assert numbers(day2) == dict(
        groups_opened=1, groups_forming=1, groups_succeeded=0, groups_failed=1, groups_virtual=0,
        success_rate=0.0, real_success_rate=0.0, paid_orders=1, paid_fen=9900, avg_order_fen=9900,
        refunds=2, refunded_fen=19800, net_revenue_fen=-9900, newcomers=0, viral_coefficient=0.0)
    both = analytics.summary(analytics.Scope(first_day=DAY1, last_day=DAY2))
    assert both['days'] == [{'day': '2026-05-10', **numbers(day1)}, {'day': '2026-05-11', **numbers(day2)}]


def test_a_range_with_nothing_opened_has_null_rates_not_a_division_by_zero(deps, clock):
    t = two_days(deps, clock)
    june = analytics.Scope(first_day=dt.date(2026, 6, 1), last_day=dt.date(2026, 6, 2))
    got = analytics.summary(june)
    assert numbers(got) == NOTHING
    assert got['days'] == [{'day': '2026-06-01', **NOTHING}, {'day': '2026-06-02', **NOTHING}]
    assert numbers(analytics.summary(analytics.Scope(campaign_id=t.empty.id))) == NOTHING
    assert analytics.summary(analytics.Scope(campaign_id=t.empty.id))['days'] == []
    assert [r['groups'] for r in analytics.time_to_fill(june)] == [0] * len(analytics.FILL_BUCKETS)
    assert {r['share'] for r in analytics.time_to_fill(june)} == {None}
    assert [(r['count'], r['of_previous'], r['of_first']) for r in analytics.funnel(june)] == [(0, None, None)] * 4
    assert analytics.best_leaders(june) == [] and analytics.courses_ranked(june) == []


def test_one_campaign_shows_its_virtual_success_and_no_one_elses_money(deps, clock):
    t = two_days(deps, clock)
    assert numbers(analytics.summary(analytics.Scope(campaign_id=t.b.id))) == dict(
        groups_opened=1, groups_forming=0, groups_succeeded=1, groups_failed=0, groups_virtual=1,
        success_rate=1.0, real_success_rate=0.0, paid_orders=2, paid_fen=10000, avg_order_fen=5000,
        refunds=0, refunded_fen=0, net_revenue_fen=10000, newcomers=0, viral_coefficient=0.0)
    course_a = analytics.summary(analytics.Scope(course_id=t.a.course_id))
    assert (course_a['groups_opened'], course_a['groups_succeeded'], course_a['groups_failed'],
            course_a['success_rate'], course_a['newcomers']) == (4, 1, 2, 0.3333, 2)


def test_courses_rank_by_success_rate_and_campaigns_list_their_own_numbers(deps, clock):
    t = two_days(deps, clock)
    ranked = analytics.courses_ranked(analytics.Scope())
    assert [(r['rank'], r['course_id'], r['course'], r['success_rate'], r['groups_succeeded'], r['groups_failed'])
            for r in ranked] == [(1, t.b.course_id, '数据分析', 1.0, 1, 0), (2, t.a.course_id, 'Python 入门', 0.3333, 1, 2)]
    per_campaign = {r['campaign_id']: r for r in analytics.campaigns(analytics.Scope())}
    assert set(per_campaign) == {t.a.id, t.b.id}
    assert (per_campaign[t.a.id]['groups_opened'], per_campaign[t.a.id]['refunded_fen']) == (4, 29700)


def test_time_to_fill_counts_only_groups_that_filled_from_the_leaders_payment(deps, clock):
    two_days(deps, clock)
    rows = analytics.time_to_fill(analytics.Scope())
    assert {r['bucket']: r['groups'] for r in rows if r['groups']} == {'5–30分钟': 1}  # G1: 25 minutes
    assert sum(r['share'] for r in rows) == 1.0  # the virtual G2 did not fill
    assert [analytics.fill_bucket(s) for s in (0, 299, 300, 1799, 1800, 86399, 86400)] == [
        '5分钟内', '5分钟内', '5–30分钟', '5–30分钟', '30分钟–1小时', '12–24小时', '24小时以上']


def test_the_funnel_follows_the_groups_opened_in_the_range(deps, clock):
    two_days(deps, clock)
    rows = analytics.funnel(analytics.Scope())
    # 2 shares (G1, G4), 3 clicks (G6's is not of an opened group), 5 member seats taken (one lapsed), 4 paid
    assert [(r['step'], r['count'], r['of_previous'], r['of_first']) for r in rows] == [
        ('shared', 2, None, 1.0), ('clicked', 3, 1.5, 1.5), ('joined', 5, 1.6667, 2.5), ('paid', 4, 0.8, 2.0)]
    day2 = analytics.funnel(analytics.Scope(first_day=DAY2, last_day=DAY2))
    assert [r['count'] for r in day2] == [0, 0, 0, 0]  # G5 was neither shared nor joined


def test_nudged_groups_are_compared_with_groups_as_short_as_them_at_the_same_time_left(deps, clock):
    two_days(deps, clock)
    at(clock, 18, 0)
    brief = opened(deps, campaign(group_size=2, duration_s=600), user())
    at(clock, 18, 10)  # it lived 10 minutes: 15 minutes before its deadline it had not formed, so it is no match
    assert settlement.settle_group(deps, brief.id) == 'failed'
    rows = analytics.nudge_effect(analytics.Scope())
    # G4 was 1 short 15 minutes before its deadline and failed; G2, never nudged, was 1 short then too and
    # succeeded. G3 was 2 short: no group that was not nudged was. G1 had filled by then.
    assert [(r['time_left_s'], r['seats_short'], r['nudged_groups'], r['nudged_success_rate'],
             r['comparable_groups'], r['comparable_success_rate'], r['difference'], r['note']) for r in rows] == [
        (900, 1, 1, 0.0, 1, 1.0, -1.0, ''),
        (900, 2, 1, 0.0, 0, None, None, analytics.NOT_ENOUGH),
        (None, None, 1, 0.0, 1, 1.0, -1.0, '')]
    assert rows[0]['stratum'] == '剩余15分钟 · 差1人'
    day1 = analytics.nudge_effect(analytics.Scope(first_day=DAY1, last_day=DAY1))  # G4 decided on day two
    assert [(r['seats_short'], r['nudged_groups'], r['comparable_groups'], r['note']) for r in day1] == [
        (2, 1, 0, analytics.NOT_ENOUGH), (None, 0, 0, analytics.NOT_ENOUGH)]


def test_the_best_leaders_brought_the_most_members_then_new_users(deps, clock):
    t = two_days(deps, clock)
    got = [(r['leader_id'], r['groups_opened'], r['groups_succeeded'], r['members_brought'], r['new_users_brought'])
           for r in analytics.best_leaders(analytics.Scope())]
    ls = t.leaders
    assert got == [(ls.g1.id, 1, 1, 2, 2), (ls.g2.id, 1, 1, 1, 0), (ls.g4.id, 1, 0, 1, 0),
                   (ls.g3.id, 1, 0, 0, 0), (ls.g5.id, 1, 0, 0, 0)]
    assert [r['leader_id'] for r in analytics.best_leaders(analytics.Scope(), limit=2)] == [ls.g1.id, ls.g2.id]


def test_a_newcomers_first_door_names_the_shared_group(deps, clock):
    t = two_days(deps, clock)
    rows = Event.select().where(Event.kind == 'user_registered').order_by(Event.id)
    assert [(e.group_id, e.campaign_id) for e in rows] == [(t.g1.id, t.a.id), (t.g1.id, t.a.id), (None, None)]


def test_the_whole_report_costs_the_same_few_queries_for_no_groups_or_many(deps, clock):
    with counted() as nothing:
        analytics.report(analytics.Scope())
    two_days(deps, clock)
    with counted() as two_days_worth:
        analytics.report(analytics.Scope(first_day=DAY1))
    assert len(two_days_worth.queries) == len(nothing.queries) == REPORT_BUDGET, two_days_worth.queries


def test_every_table_exports_as_csv_with_its_header_and_empty_cells_for_null(deps, clock):
    two_days(deps, clock)
    for name in analytics.TABLES:
        rows, columns = analytics.table(name, analytics.Scope(first_day=DAY1, last_day=DAY1))
        parsed = list(csv.reader(io.StringIO(analytics.to_csv(rows, columns))))
        assert parsed[0] == list(columns) and len(parsed) == len(rows) + 1, name
    nudge_rows, columns = analytics.table('nudge_effect', analytics.Scope(first_day=DAY1, last_day=DAY1))
    last = dict(zip(columns, list(csv.reader(io.StringIO(analytics.to_csv(nudge_rows, columns))))[-1]))
    assert last['comparable_success_rate'] == '' and last['note'] == analytics.NOT_ENOUGH


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_defused():
    text = analytics.to_csv([{'nickname': '=HYPERLINK("http://x")', 'n': -3}, {'nickname': '小明', 'n': None}],
                            ('nickname', 'n'))
    assert list(csv.reader(io.StringIO(text))) == [['nickname', 'n'], ['\'=HYPERLINK("http://x")', '-3'],
                                                   ['小明', '']]


def test_the_endpoint_answers_json_and_csv_to_the_admin_token_only(deps, clock, make_app):
    t = two_days(deps, clock)
    client = make_app(admin_token='analytics-admin').test_client()
    assert client.get('/admin/api/analytics').status_code == 401
    answer = client.get(f'/admin/api/analytics?from=2026-05-10&to=2026-05-10&campaign_id={t.a.id}', headers=ADMIN)
    body = answer.get_json()
    assert answer.status_code == 200
    assert (body['groups_opened'], body['groups_succeeded'], body['groups_failed'], body['success_rate']) == (
        3, 1, 1, 0.5)  # campaign A on day one: G1, G3, G4 opened; G1 succeeded, G3 failed
    assert body['scope'] == {'campaign_id': t.a.id, 'course_id': None, 'timezone': 'Asia/Shanghai',
                             'from': '2026-05-10', 'to': '2026-05-10'}
    assert [d['day'] for d in body['days']] == ['2026-05-10']
    assert {'campaigns', 'courses', 'time_to_fill', 'funnel', 'nudge_effect', 'leaders', 'definitions'} <= set(body)
    csv_answer = client.get('/admin/api/analytics/courses.csv?from=2026-05-10', headers=ADMIN)
    assert csv_answer.status_code == 200 and csv_answer.mimetype == 'text/csv'
    assert 'attachment; filename="pinke-courses-2026-05-10-' in csv_answer.headers['Content-Disposition']
    rows = list(csv.DictReader(io.StringIO(csv_answer.get_data(as_text=True).lstrip('\ufeff'))))
    assert [(r['course'], r['success_rate']) for r in rows] == [('数据分析', '1.0'), ('Python 入门', '0.3333')]


@pytest.mark.parametrize('query, problem', [
    ('from=2026-13-01', 'from'), ('to=yesterday', 'to'), ('from=2026-05-11&to=2026-05-10', 'to'),
    ('campaign_id=0', 'campaign_id'), ('from=1900-01-01', 'from')])
def test_a_bad_range_or_id_is_a_400_in_the_error_shape(deps, make_app, query, problem):
    client = make_app(admin_token='analytics-admin').test_client()
    for path in ('/admin/api/analytics', '/admin/api/analytics/days.csv'):
        answer = client.get(f'{path}?{query}', headers=ADMIN)
        assert answer.status_code == 400, (path, query)
        assert answer.get_json()['error']['code'] == 'invalid_input'
        assert answer.get_json()['error']['message'].startswith(problem)


def test_an_unknown_table_is_a_404(deps, make_app):
    answer = make_app(admin_token='analytics-admin').test_client().get('/admin/api/analytics/secrets.csv',
                                                                       headers=ADMIN)
    assert answer.status_code == 404 and answer.get_json()['error']['code'] == 'not_found'


def test_taking_a_share_card_counts_one_share_per_sharer_and_half_hour(deps, clock, make_app):
    from miniapp_api.auth import issue_token
    c = campaign()
    leader = user()
    group = opened(deps, c, leader)
    app = make_app()
    with app.test_request_context():
        token = issue_token(leader)
    client = app.test_client()
    for _ in range(2):
        assert client.get(f'/api/groups/{group.share_code}/share',
                          headers={'Authorization': f'Bearer {token}'}).status_code == 200
    shares = Event.select().where(Event.kind == 'group_shared')
    assert [(e.user_id, e.group_id, e.campaign_id) for e in shares] == [(leader.id, group.id, c.id)]


def test_the_readme_defines_every_metric_the_console_shows():
    readme = (Path(__file__).resolve().parents[2] / 'README.md').read_text(encoding='utf-8')
    section = readme.split('## The numbers (operator console)', 1)[1].split('\n## ', 1)[0]
    assert [m for m in analytics.METRICS if f'`{m}`' not in section] == []
    assert set(analytics.DEFINITIONS) == set(analytics.METRICS)
