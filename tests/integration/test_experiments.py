"""A/B tests of group rules on the real database and Redis: leaders land in their variant and the group runs on
its rules, members join the leader's variant, the results count what real groups did, stopping a test moves
new groups only, the admin API around it, and migration 0006 giving existing groups their campaign's rules."""
import datetime as dt
import importlib
import itertools

import pytest
from peewee import PostgresqlDatabase
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator

from groupbuy import catalog, errors, experiments, groups, settlement
from groupbuy.migrations import _history_model, available, migrate
from groupbuy.models import Campaign, CampaignVariant, Event, Group
from tests.integration.test_group_lifecycle import open_and_form
from tests.integration.test_identity_migration import blank_database  # noqa: F401 — a fixture
from tests.support.builders import campaign, pay, user
from tests.support.statements import counted

# The course costs 19900. A: pairs, 10 minutes, 99 (the leader 89); B: threes, 20 minutes, 79 for everyone.
A = dict(name='A', group_size=2, duration_s=600, group_price_fen=9900, leader_price_fen=8900)
B = dict(name='B', group_size=3, duration_s=1200, group_price_fen=7900)
IP = '127.0.0.1'


def ab_campaign(**overrides):
    return campaign(per_user_limit=5, variants=[A, B], **overrides)


def person_in(c, name):
    """A new user whose hash puts the groups they open in variant `name`."""
    c = catalog.get_campaign(c.id)
    while True:
        candidate = user()
        if experiments.variant_for(c, candidate.id).name == name:
            return candidate


def open_in(deps, c, name):
    return groups.open_group(deps, person_in(c, name), c.id, IP)


def fill(deps, group, seats):
    for _ in range(seats):
        assert pay(deps, groups.join_group(deps, user(), group.share_code, IP).order) in ('seated', 'group_succeeded')


def test_leaders_land_in_their_variant_and_the_group_runs_on_its_rules(deps, clock):
    c = ab_campaign()
    seen = set()
    for leader in [user() for _ in range(12)]:
        expected = experiments.variant_for(catalog.get_campaign(c.id), leader.id)
        checkout = groups.open_group(deps, leader, c.id, IP)
        group = Group.get_by_id(checkout.group.id)
        rules = A if expected.name == 'A' else B
        assert (group.variant, group.size, group.duration_s, group.price_fen) == (
            rules['name'], rules['group_size'], rules['duration_s'], rules['group_price_fen'])
        assert checkout.order.amount_fen == rules.get('leader_price_fen', rules['group_price_fen'])
        pay(deps, checkout.order)
        assert Group.get_by_id(group.id).deadline_at == clock.now() + dt.timedelta(seconds=rules['duration_s'])
        assert experiments.variant_for(catalog.get_campaign(c.id), leader.id).name == group.variant  # stable
        seen.add(expected.name)
    assert seen == {'A', 'B'}


def test_a_member_joins_at_the_leader_s_variant_whatever_their_own(deps):
    c = ab_campaign()
    group = open_and_form(deps, c, person_in(c, 'B'))
    member = person_in(c, 'A')  # would open an A group, joins a B one
    checkout = groups.join_group(deps, member, group.share_code, IP)
    assert checkout.order.amount_fen == 7900
    assert pay(deps, checkout.order) == 'seated'  # B's size is 3: two paid is not yet full
    assert Group.get_by_id(group.id).status == 'forming'


def test_a_campaign_without_variants_keeps_its_own_rules(deps):
    c = campaign(group_size=4, duration_s=300, group_price_fen=9000, leader_price_fen=8000)
    checkout = groups.open_group(deps, user(), c.id, IP)
    group = Group.get_by_id(checkout.group.id)
    assert (group.variant, group.size, group.duration_s, group.price_fen) == (None, 4, 300, 9000)
    assert checkout.order.amount_fen == 8000
    with pytest.raises(errors.NotFound):
        experiments.results(c.id)


def test_choosing_the_variant_costs_open_group_one_read(deps):
    plain, tested = campaign(per_user_limit=5), ab_campaign()
    first, second, third = user(), person_in(tested, 'B'), person_in(tested, 'B')
    catalog._variants.cache_clear()  # as in a process that has not seen these campaigns yet
    with counted() as without:
        groups.open_group(deps, first, plain.id, IP)
    with counted() as with_variants:
        groups.open_group(deps, second, tested.id, IP)
    assert len(with_variants.queries) == len(without.queries)  # both read the (possibly empty) variants once
    assert sum('campaign_variant' in q for q in with_variants.queries) == 1
    with counted() as again:  # written with their campaign, never changed: read once per campaign and process
        groups.open_group(deps, third, tested.id, IP)
    assert sum('campaign_variant' in q for q in again.queries) == 0
    assert len(again.queries) == len(with_variants.queries) - 1


def test_the_results_count_what_each_variant_s_groups_did(deps, clock):
    c = ab_campaign()
    a_won = open_and_form(deps, c, person_in(c, 'A'))
    fill(deps, a_won, 1)  # 8900 + 9900
    a_lost = open_and_form(deps, c, person_in(c, 'A'))  # 8900, refunded at the deadline
    open_in(deps, c, 'A')  # the leader never pays: not opened
    b_lost = open_and_form(deps, c, person_in(c, 'B'))
    fill(deps, b_lost, 1)  # 7900 + 7900, both refunded
    b_won = open_and_form(deps, c, person_in(c, 'B'))
    fill(deps, b_won, 2)  # 3 × 7900
    clock.advance(1201)
    assert [settlement.settle_group(deps, g.id) for g in (a_lost, b_lost)] == ['failed', 'failed']
    a_open = open_and_form(deps, c, person_in(c, 'A'))  # 8900 so far, still forming

    r = experiments.results(c.id)
    a, b = r.variants
    assert (a.name, a.opened, a.decided, a.succeeded) == ('A', 3, 2, 1)
    assert (b.name, b.opened, b.decided, b.succeeded) == ('B', 2, 2, 1)
    assert a.success_rate == 0.5 and a.success_interval == experiments.wilson(1, 2)
    assert a.revenue_per_group_fen == pytest.approx((18800 + 0 + 8900) / 3)
    assert a.revenue_interval_fen == experiments.mean_with_interval([18800, 0, 8900])[1]
    assert b.revenue_per_group_fen == pytest.approx((0 + 23700) / 2)
    assert (a.rules.size, a.rules.leader_price_fen, b.rules.size, b.rules.leader_price_fen) == (2, 8900, 3, 7900)
    assert r.verdict.text == 'A 与 B 持平（成团率都是 50.0%），目前看不出差别'
    assert (r.winner, r.stopped_at) == (None, None) and Group.get_by_id(a_open.id).status == 'forming'


def test_stopping_sends_new_groups_to_the_winner_and_groups_in_flight_keep_their_rules(deps, clock):
    c = ab_campaign()
    filling = open_and_form(deps, c, person_in(c, 'A'))
    running_out = open_and_form(deps, c, person_in(c, 'A'))
    clock.advance(60)
    experiments.stop_test(deps, c.id, 'B')
    assert Campaign.get_by_id(c.id).winner_variant == 'B'
    assert Event.get(Event.kind == 'experiment_stopped').campaign_id == c.id

    clock.advance(1)
    hashed_to_a = next(u for u in (user() for _ in itertools.count()) if experiments.assign(c.id, u.id, [1, 1]) == 0)
    after = groups.open_group(deps, hashed_to_a, c.id, IP)  # would have been A while the test ran
    opened = Group.get_by_id(after.group.id)
    assert (opened.variant, opened.size, opened.duration_s, after.order.amount_fen) == ('B', 3, 1200, 7900)

    joiner = groups.join_group(deps, user(), filling.share_code, IP)
    assert joiner.order.amount_fen == 9900  # A's price, in A's group
    assert pay(deps, joiner.order) == 'group_succeeded'  # full at A's two, not B's three
    clock.advance(600 - 61)  # A's ten minutes since the leader paid (B's twenty are far off)
    assert settlement.settle_group(deps, running_out.id) == 'failed'

    r = experiments.results(c.id)
    assert (r.winner, r.stopped_at) == ('B', clock.now() - dt.timedelta(seconds=600 - 60))
    assert [(v.name, v.opened, v.decided, v.succeeded) for v in r.variants] == [('A', 2, 2, 1), ('B', 0, 0, 0)]
    pay(deps, after.order)  # opened after the stop: not part of the comparison
    assert experiments.results(c.id).variants[1].opened == 0


def test_stopping_refuses_an_unknown_variant_a_second_stop_and_a_campaign_without_a_test(deps):
    c = ab_campaign()
    with pytest.raises(errors.InvalidInput):
        experiments.stop_test(deps, c.id, 'C')
    experiments.stop_test(deps, c.id, 'A')
    with pytest.raises(errors.InvalidTransition):
        experiments.stop_test(deps, c.id, 'B')
    with pytest.raises(errors.NotFound):
        experiments.stop_test(deps, campaign().id, 'A')
    assert Campaign.get_by_id(c.id).winner_variant == 'A'
    assert Event.select().where(Event.kind == 'experiment_stopped').count() == 1


@pytest.mark.parametrize('variants, field', [
    ([A], 'variants'),
    ([A, dict(B, name='A')], 'variants'),
    ([A, dict(B, weight=0)], 'variants.1.weight'),
    ([A, dict(B, group_size=1)], 'variants.1.group_size'),
    ([A, dict(B, group_price_fen=19901)], 'variants.1.group_price_fen'),
    ([dict(A, leader_price_fen=20000), B], 'variants.0.leader_price_fen'),
    ([dict(A, name=''), B], 'variants.0.name'),
])
def test_variants_that_make_no_test_are_refused_and_nothing_is_stored(deps, variants, field):
    with pytest.raises(errors.InvalidInput) as refused:
        campaign(variants=variants)
    assert refused.value.details['field'] == field
    assert Campaign.select().count() == 0 and CampaignVariant.select().count() == 0


def test_variants_are_stored_in_the_order_given(deps):
    c = campaign(variants=[dict(B, weight=3), A])
    stored = catalog.variants_of(catalog.get_campaign(c.id))
    assert [(v.name, v.weight, v.leader_price_fen) for v in stored] == [('B', 3, None), ('A', 1, 8900)]


# --- the admin API ---------------------------------------------------------------------------------------------

ADMIN = {'Authorization': 'Bearer adm-test'}


def test_the_admin_api_creates_a_test_shows_its_results_and_stops_it(deps, make_app):
    client = make_app(admin_token='adm-test').test_client()
    course = client.post('/admin/api/courses', headers=ADMIN, json={'title': 'AB', 'price_fen': 19900}).get_json()
    terms = {'course_id': course['course']['id'], 'group_size': 3, 'duration_s': 3600, 'group_price_fen': 9900}
    created = client.post('/admin/api/campaigns', headers=ADMIN, json={**terms, 'variants': [A, dict(B, weight=2)]})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()['campaign']
    assert [(v['name'], v['weight'], v['group_size']) for v in body['variants']] == [('A', 1, 2), ('B', 2, 3)]
    assert body['winner_variant'] is None
    campaign_id = body['id']

    c = catalog.get_campaign(campaign_id)
    group = open_and_form(deps, c, person_in(c, 'B'))
    shown = client.get(f'/api/groups/{group.share_code}').get_json()
    assert (shown['variant'], shown['price_fen'], shown['size']) == ('B', 7900, 3)

    experiment = client.get(f'/admin/api/campaigns/{campaign_id}/experiment', headers=ADMIN)
    assert experiment.status_code == 200
    result = experiment.get_json()['experiment']
    assert [(v['name'], v['opened'], v['decided']) for v in result['variants']] == [('A', 0, 0), ('B', 1, 0)]
    assert result['verdict']['text'] == '还不能比较：A、B 还没有已结束的团'
    assert result['winner_variant'] is None and result['variants'][1]['revenue_per_group_fen'] == 7900

    stop = f'/admin/api/campaigns/{campaign_id}/experiment/stop'
    stopped = client.post(stop, headers=ADMIN, json={'winner': 'B'})
    assert stopped.status_code == 200 and stopped.get_json()['experiment']['winner_variant'] == 'B'
    assert stopped.get_json()['experiment']['stopped_at'].endswith('Z')
    again = client.post(stop, headers=ADMIN, json={'winner': 'A'})
    assert again.status_code == 409 and again.get_json()['error']['code'] == 'invalid_transition'
    assert client.get(f'/api/campaigns/{campaign_id}').get_json()['campaign']['winner_variant'] == 'B'


@pytest.mark.parametrize('variants, code', [
    ([A], 'invalid_input'),  # one variant is no test
    ([A, dict(B, name='A')], 'invalid_input'),
    ([A, dict(B, group_price_fen=19901)], 'invalid_input'),
    ([A, dict(B, weight=0)], 'invalid_input'),
    ([A, dict(B, group_size='3')], 'invalid_input'),  # numbers are strict
    ([A, dict(B, leader_pirce_fen=100)], 'unknown_fields'),
    ('AB', 'invalid_input'),
])
def test_the_admin_api_refuses_bad_variants_with_a_clear_400(deps, make_app, variants, code):
    client = make_app(admin_token='adm-test').test_client()
    course = client.post('/admin/api/courses', headers=ADMIN, json={'title': 'AB', 'price_fen': 19900}).get_json()
    answer = client.post('/admin/api/campaigns', headers=ADMIN, json={
        'course_id': course['course']['id'], 'group_size': 3, 'duration_s': 3600, 'group_price_fen': 9900,
        'variants': variants})
    assert answer.status_code == 400 and answer.get_json()['error']['code'] == code, answer.get_json()
    assert Campaign.select().count() == 0


def test_the_experiment_endpoints_refuse_bad_input(deps, make_app):
    client = make_app(admin_token='adm-test').test_client()
    tested, plain = ab_campaign(), campaign()
    stop = f'/admin/api/campaigns/{tested.id}/experiment/stop'
    for body, status, code in [({'winner': 'C'}, 400, 'invalid_input'), ({}, 400, 'invalid_input'),
                               ({'winner': 5}, 400, 'invalid_input'), ({'winner': ''}, 400, 'invalid_input'),
                               ({'winner': 'B', 'at': 'now'}, 400, 'unknown_fields')]:
        answer = client.post(stop, headers=ADMIN, json=body)
        assert (answer.status_code, answer.get_json()['error']['code']) == (status, code), body
    assert client.post(stop, headers=ADMIN, data='B').status_code == 400  # not JSON
    assert client.post(stop, json={'winner': 'B'}).status_code == 401
    for path in (f'/admin/api/campaigns/{plain.id}/experiment', '/admin/api/campaigns/999999/experiment'):
        answer = client.get(path, headers=ADMIN)
        assert answer.status_code == 404 and answer.get_json()['error']['code'] == 'not_found'
    answer = client.post(f'/admin/api/campaigns/{plain.id}/experiment/stop', headers=ADMIN, json={'winner': 'A'})
    assert answer.status_code == 404
    assert Campaign.get_by_id(tested.id).winner_variant is None


# --- migration 0006 on a database that already has groups -------------------------------------------------------

def test_migration_0006_gives_every_existing_group_its_campaign_s_duration_and_price(blank_database):  # noqa: F811
    database = blank_database
    first = importlib.import_module('groupbuy.migrations.0001_initial')
    migrator = (PostgresqlMigrator if isinstance(database, PostgresqlDatabase) else SqliteMigrator)(database)
    history = _history_model(database)
    database.create_tables([history])

    def step(name):
        with database.atomic():
            importlib.import_module(f'groupbuy.migrations.{name}').up(database, migrator)
            history.create(name=name, applied_at=dt.datetime(2026, 1, 1))
    step('0001_initial')
    with database.bind_ctx(first.MODELS):  # rows as the first schema wrote them
        leader = first.User.create(openid='o-leader')
        course = first.Course.create(title='旧课', price_fen=19900)
        day = first.Campaign.create(course=course, group_size=3, duration_s=86400, group_price_fen=9900)
        quick = first.Campaign.create(course=course, group_size=2, duration_s=120, group_price_fen=4900,
                                      leader_price_fen=3900)
        old = {first.Group.create(campaign=c, leader=leader, share_code=f'old-{c.id}', size=c.group_size).id: c
               for c in (day, quick)}
    for name in [n for n in available() if '0001' < n[:4] < '0006']:  # the schema as it was before 0006, step by step
        step(name)

    assert migrate(database)[0] == '0006_console_and_variants'  # and any later ones
    rows = dict(((gid, (duration, price)) for gid, duration, price in
                 database.execute_sql('SELECT id, duration_s, price_fen FROM "group"').fetchall()))
    assert rows == {gid: (c.duration_s, c.group_price_fen) for gid, c in old.items()}
    columns = {c.name: c.null for c in database.get_columns('group')}
    assert columns['duration_s'] is False and columns['price_fen'] is False and columns['variant'] is True
    assert {c.name for c in database.get_columns('campaign')} >= {'winner_variant'}
    assert 'campaign_variant' in database.get_tables()
