"""The console's pages over real data (issue 10 §2): campaigns made, edited, paused and cloned from forms;
groups found by filter; a group's and a person's whole record; a failed refund retried; a broadcast
previewed per channel, sent and followed; every page a 200 with what it should show."""
import re

import pytest

from groupbuy import catalog, groups, refunds, rewards, tiers
from groupbuy.models import Broadcast, Campaign, Course, OperatorAction, Refund
from tests.integration.test_refunds_and_recovery import failed_group_with_one_payer
from tests.support.builders import campaign, pay, user
from tests.support.console import csrf, operator, sign_in


@pytest.fixture
def app(make_app, clock):
    application = make_app()
    application.extensions['pinke'].deps.clock = clock
    return application


def signed_in(app, clock, role='operator', name=None):
    client = app.test_client()
    operator(name or role, role, clock.now())
    assert sign_in(client, name or role).status_code == 302
    return client


def test_an_operator_creates_a_course_and_a_campaign_from_forms_and_sees_them_listed(app, clock):
    client = signed_in(app, clock)
    token = csrf(client)
    assert client.post('/admin/courses', data={'csrf_token': token, 'title': '数据分析入门',
                                               'price_fen': '19900'}).status_code == 302
    course = Course.get(Course.title == '数据分析入门')
    answer = client.post('/admin/campaigns', data={
        'csrf_token': token, 'course_id': str(course.id), 'group_size': '3', 'duration_s': '86400',
        'group_price_fen': '9900', 'leader_price_fen': '', 'per_user_limit': '1', 'nudge_offsets_s': '7200,900',
        'ends_at': '2030-01-01T20:00', 'status': 'draft'})
    assert answer.status_code == 302
    created = Campaign.get(Campaign.course == course.id)
    assert (created.status, created.group_price_fen, created.leader_price_fen) == ('draft', 9900, None)
    assert created.ends_at.isoformat() == '2030-01-01T12:00:00'  # typed in Beijing time, kept in UTC
    listing = client.get('/admin/campaigns').get_data(as_text=True)
    assert '数据分析入门' in listing and '¥99' in listing


def test_a_form_with_a_bad_value_names_the_field_and_creates_nothing(app, clock):
    client = signed_in(app, clock)
    course = catalog.create_course('Go 入门', 9900)
    answer = client.post('/admin/campaigns', data={
        'csrf_token': csrf(client), 'course_id': str(course.id), 'group_size': '1', 'duration_s': '60',
        'group_price_fen': '100', 'per_user_limit': '1', 'nudge_offsets_s': ''})
    assert answer.status_code == 400 and 'group_size' in answer.get_data(as_text=True)
    assert not Campaign.select().exists()


def test_a_live_campaign_takes_new_rules_for_new_groups_but_not_a_new_start_or_ratio(app, clock, deps):
    c = campaign(group_size=3)
    in_flight = groups.open_group(deps, user(), c.id, '127.0.0.1')
    client = signed_in(app, clock)
    form = {'csrf_token': csrf(client), 'group_size': '5', 'duration_s': '7200', 'group_price_fen': '7900',
            'per_user_limit': '1', 'nudge_offsets_s': '900'}
    assert client.post(f'/admin/campaigns/{c.id}', data=form).status_code == 302
    assert (catalog.get_campaign(c.id).group_size, catalog.get_campaign(c.id).group_price_fen) == (5, 7900)
    kept = type(in_flight.group).get_by_id(in_flight.group.id)
    assert (kept.size, kept.price_fen, kept.duration_s) == (3, 9900, 3600)  # the group in flight keeps its rules
    locked = client.post(f'/admin/campaigns/{c.id}', data={**form, 'auto_complete_ratio': '0.5'})
    assert locked.status_code == 409 and catalog.get_campaign(c.id).auto_complete_ratio is None


def test_pause_resume_end_and_clone(app, clock):
    c = campaign()
    client = signed_in(app, clock)
    for move, status in (('pause', 'paused'), ('resume', 'active'), ('end', 'ended')):
        assert client.post(f'/admin/campaigns/{c.id}/{move}', data={'csrf_token': csrf(client)}).status_code == 302
        assert catalog.get_campaign(c.id).status == status
    assert client.post(f'/admin/campaigns/{c.id}/resume', data={'csrf_token': csrf(client)}).status_code == 409
    client.post(f'/admin/campaigns/{c.id}/clone', data={'csrf_token': csrf(client)})
    copy = Campaign.select().order_by(Campaign.id.desc()).first()
    assert copy.id != c.id and copy.status == 'draft' and copy.group_size == c.group_size
    assert client.get(f'/admin/campaigns/{copy.id}').status_code == 200


def test_groups_are_found_by_status_campaign_leader_and_expiring_short(app, clock, deps):
    c = campaign(group_size=3, duration_s=3600)
    soon, later = user(), user()
    first = groups.open_group(deps, soon, c.id, '127.0.0.1')
    pay(deps, first.order)
    clock.advance(1800)
    second = groups.open_group(deps, later, c.id, '127.0.0.1')
    pay(deps, second.order)
    client = signed_in(app, clock)
    page = client.get('/admin/groups?expiring_min=40').get_data(as_text=True)
    assert f'/admin/groups/{first.group.id}"' in page and f'/admin/groups/{second.group.id}"' not in page
    by_leader = client.get(f'/admin/groups?leader={later.id}').get_data(as_text=True)
    assert f'/admin/groups/{second.group.id}"' in by_leader and f'/admin/groups/{first.group.id}"' not in by_leader
    assert client.get('/admin/groups?status=bogus').status_code == 400
    assert client.get('/admin/groups?expiring_min=x').status_code == 400
    record = client.get(f'/admin/groups/{first.group.id}').get_data(as_text=True)
    assert first.order.out_trade_no in record and 'EventSource' in record


def test_finance_retries_a_failed_refund_from_the_attention_list(app, clock, deps):
    deps.refund_max_attempts = 1
    order = failed_group_with_one_payer(deps, clock)
    deps.gateway.fail_refunds = 1
    with pytest.raises(refunds.RefundFailed):
        refunds.refund_order(deps, order.id)
    refund = Refund.get(Refund.order == order.id)
    client = signed_in(app, clock, 'finance')
    page = client.get('/admin/refunds').get_data(as_text=True)
    assert refund.out_refund_no in page and f'data-retry="{refund.id}"' in page
    assert client.post(f'/admin/refunds/{refund.id}/retry', data={'csrf_token': csrf(client)}).status_code == 302
    assert Refund.get_by_id(refund.id).status == 'pending'
    assert OperatorAction.get(OperatorAction.action == 'retry_refund').target == f'refund:{refund.id}'
    assert client.post(f'/admin/refunds/{refund.id}/retry', data={'csrf_token': csrf(client)}).status_code == 409
    assert 'audit-clean' in client.get('/admin/audit').get_data(as_text=True)


def test_a_broadcast_is_previewed_per_channel_sent_and_followed(app, clock, deps):
    c = campaign(group_size=3)
    leader = user()
    opened = groups.open_group(deps, leader, c.id, '127.0.0.1')
    pay(deps, opened.order)
    client = signed_in(app, clock)
    form = {'csrf_token': csrf(client), 'type': 'campaign', 'campaign_id': str(c.id), 'message': '最后一小时！'}
    preview = client.post('/admin/broadcasts/preview', data=form).get_data(as_text=True)
    assert 'id="reach"' in preview and '发送给 1 人' in preview
    assert client.post('/admin/broadcasts', data=form).status_code == 302
    broadcast = Broadcast.get()
    assert broadcast.message == '最后一小时！'
    progress = client.get(f'/admin/broadcasts/{broadcast.id}.json').get_json()['broadcast']
    assert progress['status'] == 'queued'
    bad = client.post('/admin/broadcasts/preview', data={**form, 'type': 'users', 'user_ids': 'x'})
    assert bad.status_code == 400


def test_a_person_s_record_shows_groups_orders_refunds_and_referrals(app, clock, deps):
    order = failed_group_with_one_payer(deps, clock)
    client = signed_in(app, clock, 'analyst')
    found = client.get(f'/admin/users?q={order.user_id}').get_data(as_text=True)
    assert f'/admin/users/{order.user_id}"' in found
    record = client.get(f'/admin/users/{order.user_id}').get_data(as_text=True)
    assert order.out_trade_no in record and 'group_failed' in record
    assert client.get('/admin/users/999999').status_code == 404


@pytest.mark.parametrize('path', ['/admin/', '/admin/campaigns', '/admin/campaigns/new', '/admin/groups',
                                  '/admin/refunds', '/admin/broadcasts', '/admin/users', '/admin/actions'])
def test_every_page_answers_for_an_operator(app, clock, path):
    assert signed_in(app, clock).get(path).status_code == 200


def test_a_clone_copies_the_a_b_variants_too(app, clock):
    course = catalog.create_course('A/B 课', 19900)
    c = catalog.create_campaign(course_id=course.id, group_size=3, duration_s=3600, group_price_fen=9900, variants=[
        {'name': 'A', 'weight': 1, 'group_size': 3, 'duration_s': 3600, 'group_price_fen': 9900},
        {'name': 'B', 'weight': 2, 'group_size': 2, 'duration_s': 1800, 'group_price_fen': 10900}])
    client = signed_in(app, clock)
    client.post(f'/admin/campaigns/{c.id}/clone', data={'csrf_token': csrf(client)})
    copy = Campaign.select().order_by(Campaign.id.desc()).first()
    assert [(v.name, v.weight, v.group_size, v.group_price_fen) for v in catalog.variants_of(copy)] == [
        ('A', 1, 3, 9900), ('B', 2, 2, 10900)]


def test_the_experiment_page_shows_intervals_and_the_verdict_and_stops_for_a_winner(app, clock, deps):
    course = catalog.create_course('A/B 课', 19900)
    c = catalog.create_campaign(course_id=course.id, group_size=2, duration_s=3600, group_price_fen=9900, variants=[
        {'name': 'A', 'weight': 1, 'group_size': 2, 'duration_s': 3600, 'group_price_fen': 9900},
        {'name': 'B', 'weight': 1, 'group_size': 2, 'duration_s': 3600, 'group_price_fen': 10900}])
    for _ in range(6):
        opened = groups.open_group(deps, user(), c.id, '127.0.0.1')
        pay(deps, opened.order)
        pay(deps, groups.join_group(deps, user(), opened.group.share_code, '127.0.0.1').order)
    analyst = signed_in(app, clock, 'analyst')
    page = analyst.get(f'/admin/campaigns/{c.id}/experiment').get_data(as_text=True)
    assert 'id="verdict"' in page and 'Wilson' in page and '100.0%' in page
    assert analyst.post(f'/admin/campaigns/{c.id}/experiment/stop',
                        data={'csrf_token': csrf(analyst, f'/admin/campaigns/{c.id}/experiment'),
                              'winner': 'B'}).status_code == 403
    client = signed_in(app, clock)
    token = csrf(client, f'/admin/campaigns/{c.id}/experiment')
    assert client.post(f'/admin/campaigns/{c.id}/experiment/stop', data={'csrf_token': token,
                                                                          'winner': 'B'}).status_code == 302
    assert catalog.get_campaign(c.id).winner_variant == 'B'
    assert client.post(f'/admin/campaigns/{c.id}/experiment/stop', data={'csrf_token': token,
                                                                          'winner': 'A'}).status_code == 409


def test_the_numbers_page_draws_charts_and_an_analyst_exports_its_tables(app, clock, deps):
    c = campaign(group_size=2)
    opened = groups.open_group(deps, user(), c.id, '127.0.0.1')
    pay(deps, opened.order)
    pay(deps, groups.join_group(deps, user(), opened.group.share_code, '127.0.0.1').order)
    analyst = signed_in(app, clock, 'analyst')
    page = analyst.get(f'/admin/numbers?campaign_id={c.id}').get_data(as_text=True)
    assert page.count('<svg') >= 5 and 'data-metric="success_rate"' in page and '100.0%' in page
    assert f'/admin/numbers/campaigns.csv?campaign_id={c.id}' in page
    csv = analyst.get(f'/admin/numbers/campaigns.csv?campaign_id={c.id}')
    assert csv.status_code == 200 and csv.mimetype == 'text/csv'
    assert 'attachment' in csv.headers['Content-Disposition']
    lines = csv.get_data(as_text=True).lstrip('\ufeff').splitlines()
    assert lines[0].startswith('campaign_id,course,groups_opened') and lines[1].startswith(f'{c.id},')
    assert analyst.get('/admin/numbers?from=2026-13-01').status_code == 400
    operator = signed_in(app, clock, 'operator')
    assert 'id="exports"' not in operator.get('/admin/numbers').get_data(as_text=True)
    assert operator.get('/admin/numbers/campaigns.csv').status_code == 403


def test_an_operator_approves_or_rejects_a_group_held_for_review_and_manages_the_blocklist(app, clock, deps):
    from groupbuy.models import Group, RiskBlock
    from groupbuy.risk.rules import RuleConfig
    c = campaign(group_size=RuleConfig().fresh_fill_members + 1)
    held = []
    for _ in range(2):
        leader_group = groups.open_group(deps, user(), c.id, '127.0.0.1')
        pay(deps, leader_group.order)
        for _ in range(c.group_size - 1):
            outcome = pay(deps, groups.join_group(deps, user(), leader_group.group.share_code, '127.0.0.1').order)
        assert outcome == 'group_in_review'
        held.append(leader_group.group.id)
    analyst = signed_in(app, clock, 'analyst')
    page = analyst.get('/admin/risk').get_data(as_text=True)
    assert f'data-held="{held[0]}"' in page and 'fresh_fill' in page and 'data-approve' not in page
    client = signed_in(app, clock)
    token = csrf(client, '/admin/risk')
    assert client.post(f'/admin/risk/groups/{held[0]}/approve', data={'csrf_token': token}).status_code == 302
    assert client.post(f'/admin/risk/groups/{held[1]}/reject', data={'csrf_token': token}).status_code == 302
    assert [Group.get_by_id(g).status for g in held] == ['succeeded', 'failed']
    assert client.post(f'/admin/risk/groups/{held[0]}/reject', data={'csrf_token': token}).status_code == 409
    assert client.post('/admin/risk/blocks', data={'csrf_token': token, 'kind': 'ip', 'value': '1.2.3.4',
                                                   'reason': 'farm', 'hours': '2'}).status_code == 302
    assert client.post('/admin/risk/blocks', data={'csrf_token': token, 'kind': 'device', 'value': 'x'}).status_code == 400
    entry = RiskBlock.get()
    assert (entry.kind, entry.value, entry.created_by) == ('ip', '1.2.3.4', 'operator')
    assert client.post(f'/admin/risk/blocks/{entry.id}/remove', data={'csrf_token': token}).status_code == 302
    assert not RiskBlock.select().exists()
    assert [a.action for a in OperatorAction.select().where(OperatorAction.actor == 'operator')
            .order_by(OperatorAction.id)][1:] == ['approve_review', 'reject_review', 'block', 'unblock']


def test_a_campaign_s_risk_rules_are_edited_as_json_and_checked(app, clock):
    c = campaign()
    client = signed_in(app, clock)
    token = csrf(client, '/admin/risk')
    assert client.post(f'/admin/risk/campaigns/{c.id}/rules', data={'csrf_token': token,
                                                                    'rules': '{"seat_cooldown_s": 3600}'}).status_code == 302
    assert catalog.get_campaign(c.id).risk_rules == '{"seat_cooldown_s": 3600}'
    for bad in ('{"nope": 1}', '{"seat_cooldown_s": -5}', 'not json'):
        assert client.post(f'/admin/risk/campaigns/{c.id}/rules', data={'csrf_token': token, 'rules': bad}).status_code == 400
    assert '&#34;seat_cooldown_s&#34;: 3600' in client.get(f'/admin/risk?campaign_id={c.id}').get_data(as_text=True)


def test_the_overview_counts_groups_waiting_for_review(app, clock, deps):
    from groupbuy.risk.rules import RuleConfig
    c = campaign(group_size=RuleConfig().fresh_fill_members + 1)
    opened = groups.open_group(deps, user(), c.id, '127.0.0.1')
    pay(deps, opened.order)
    for _ in range(c.group_size - 1):
        pay(deps, groups.join_group(deps, user(), opened.group.share_code, '127.0.0.1').order)
    page = signed_in(app, clock).get('/admin/').get_data(as_text=True)
    assert '>1</a></b><span>待风控审核的团' in page


def test_the_h5_campaign_page_of_an_a_b_test_shows_the_lowest_price_as_from(app):
    course = catalog.create_course('A/B 课', 19900)
    c = catalog.create_campaign(course_id=course.id, group_size=3, duration_s=3600, group_price_fen=9900, variants=[
        {'name': 'A', 'weight': 1, 'group_size': 3, 'duration_s': 3600, 'group_price_fen': 9900},
        {'name': 'B', 'weight': 1, 'group_size': 2, 'duration_s': 1800, 'group_price_fen': 7900}])
    page = app.test_client().get(f'/c/{c.id}').get_data(as_text=True)
    assert '¥79<small> 起</small>' in page
    plain = app.test_client().get(f'/c/{campaign().id}').get_data(as_text=True)
    assert '¥99</span>' in plain and '起</small>' not in plain


# --- issue 12: the growth levers set from the new-campaign form and shown on the campaign pages ---

def growth_form(token, course_id, **fields) -> dict:
    form = {'csrf_token': token, 'course_id': str(course_id), 'duration_s': '86400', 'per_user_limit': '1',
            'nudge_offsets_s': '', 'status': 'active', 'group_size': '', 'group_price_fen': '', 'leader_price_fen': '',
            'tier_size': ['', '', '', '', ''], 'tier_price_fen': ['', '', '', '', ''], 'reward_kind': ''}
    return {**form, **fields}


def test_a_tiered_free_leader_campaign_with_a_coupon_reward_is_made_from_the_form(app, clock):
    client = signed_in(app, clock)
    course = catalog.create_course('阶梯课', 19900)
    answer = client.post('/admin/campaigns', data=growth_form(
        csrf(client), course.id, leader_price_fen='0', tier_size=['3', '5', '', '', ''],
        tier_price_fen=['9900', '7900', '', '', ''], reward_kind='coupon', reward_amount_fen='1000',
        reward_min_spend_fen='5000', reward_valid_days='30', reward_points='7'))  # points: not a coupon's, ignored
    assert answer.status_code == 302
    made = Campaign.get(Campaign.course == course.id)
    assert (made.group_size, made.group_price_fen, made.leader_price_fen) == (5, 9900, 0)
    assert [(t.size, t.price_fen) for t in tiers.parse(made.tiers)] == [(3, 9900), (5, 7900)]
    assert rewards.terms_of(made) == {'kind': 'coupon', 'amount_fen': 1000, 'min_spend_fen': 5000, 'valid_days': 30}
    logged = OperatorAction.select().where(OperatorAction.target == f'campaign:{made.id}').get()
    assert '"tiers"' in logged.after and '"reward"' in logged.after
    page = client.get(f'/admin/campaigns/{made.id}').get_data(as_text=True)
    assert '3人 ¥99 / 5人 ¥79' in page and '团长免单' in page and '¥10 券（满 ¥50 可用，30 天有效）' in page
    assert re.search(r'name="group_size"[^>]*value="5"[^>]*disabled', page)  # a tiered size is its tiers', not edited
    listing = client.get('/admin/campaigns').get_data(as_text=True)
    assert '阶梯团 3人 ¥99 / 5人 ¥79' in listing and '团长免单' in listing and '老带新' in listing
    client.post(f'/admin/campaigns/{made.id}/clone', data={'csrf_token': csrf(client)})
    copy = Campaign.select().order_by(Campaign.id.desc()).first()
    assert (copy.id != made.id, copy.tiers, copy.reward, copy.leader_price_fen) == (True, made.tiers, made.reward, 0)
    assert '3人 ¥99 / 5人 ¥79' in client.get(f'/admin/campaigns/{copy.id}').get_data(as_text=True)


def test_a_cross_course_campaign_with_points_is_made_from_the_form(app, clock):
    client = signed_in(app, clock)
    main, other, third = (catalog.create_course(t, p) for t, p in (('Python 课', 19900), ('Go 课', 18900),
                                                                     ('Rust 课', 21900)))
    answer = client.post('/admin/campaigns', data=growth_form(
        csrf(client), main.id, group_size='3', group_price_fen='9900', extra_course_ids=[str(other.id), str(third.id)],
        band_low_fen='15000', band_high_fen='25000', reward_kind='points', reward_points='100'))
    assert answer.status_code == 302
    made = Campaign.get(Campaign.course == main.id)
    assert [c.id for c in catalog.courses_of(made)] == [main.id, other.id, third.id]
    assert (made.band_low_fen, made.band_high_fen, rewards.terms_of(made)) == (15000, 25000, {'kind': 'points',
                                                                                              'points': 100})
    page = client.get(f'/admin/campaigns/{made.id}').get_data(as_text=True)
    assert 'Python 课' in page and 'Go 课' in page and 'Rust 课' in page and '¥150–¥250' in page
    assert '100 积分' in page
    assert '跨课程 Python 课 / Go 课 / Rust 课' in client.get('/admin/campaigns').get_data(as_text=True)


@pytest.mark.parametrize('fields, says', [
    ({'tier_size': ['3', '5', '', '', ''], 'tier_price_fen': ['9900', '', '', '', '']}, 'needs both its size and'),
    ({'tier_size': ['3', '5', '', '', ''], 'tier_price_fen': ['7900', '9900', '', '', '']}, 'tiers.1.price_fen'),
    ({'tier_size': ['3', 'five', '', '', ''], 'tier_price_fen': ['9900', '7900', '', '', '']}, 'tiers.1.size'),
    ({'tier_size': ['1', '5', '', '', ''], 'tier_price_fen': ['9900', '7900', '', '', '']}, 'tiers.0.size'),
    ({'tier_size': ['3', '', '', '', ''], 'tier_price_fen': ['9900', '', '', '', '']}, '2 to 5 tiers'),
    ({'group_size': '3', 'group_price_fen': '9900', 'reward_kind': 'coupon', 'reward_amount_fen': '5000',
      'reward_min_spend_fen': '5000', 'reward_valid_days': '30'}, 'min_spend_fen must be more than amount_fen'),
    ({'group_size': '3', 'group_price_fen': '9900', 'extra_course_ids': ['999999'], 'band_low_fen': '1',
      'band_high_fen': '99999'}, 'course 999999 not found'),
    ({}, 'sets group_size and group_price_fen'),
])
def test_a_bad_growth_lever_answers_with_the_form_and_what_is_wrong(app, clock, fields, says):
    client = signed_in(app, clock)
    course = catalog.create_course('阶梯课', 19900)
    answer = client.post('/admin/campaigns', data=growth_form(csrf(client), course.id, **fields))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and says in page and 'id="form-error"' in page
    assert 'name="tier_size"' in page and '创建活动' in page  # the form again, as it was filled in
    for size in [s for s in fields.get('tier_size', []) if s]:
        assert f'name="tier_size" type="number" min="2" max="100" value="{size}"' in page
    assert not Campaign.select().exists()
