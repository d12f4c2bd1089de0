"""Risk control, scenario by scenario over the HTTP API (issue 11): a farm of accounts on one phone cannot fill
a group; real friends behind one office address can; a seat squatter cannot hold a seat past one pay window; a
group filled by fresh accounts waits for review and its money ends fulfilled or refunded; every decision is
kept with its signals and replays to the same verdict."""
import json


from groupbuy import audit, settlement
from groupbuy.models import Group, Order, RiskCheck, Seat
from groupbuy.risk import blocklist, review
from groupbuy.risk.replay import replay
from groupbuy.risk.rules import RuleConfig
from tests.integration.test_group_lifecycle import confirm_refunds
from tests.integration.test_rate_limits import join, make  # noqa: F401 — a fixture
from tests.integration.test_user_tokens import token_for
from tests.support.builders import campaign, pay, user

PHONE = 'phone-' + 'f' * 20
OFFICE = '49.7.21.36'  # one public address: an office's NAT (not a documentation range: those are not global)


def device(n: int) -> str:
    return f'phone-{n:020d}'


def open_over_http(app, deps, c, leader, dev=PHONE, address='127.0.0.1'):
    answer = app.test_client().post('/api/groups', json={'campaign_id': c.id}, environ_base={'REMOTE_ADDR': address},
                                    headers={'Authorization': f'Bearer {token_for(app, leader)}', 'X-Pinke-Device': dev})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    body = answer.get_json()
    pay(deps, Order.get(Order.out_trade_no == body['order']['out_trade_no']))
    return body['group']['share_code']


def test_one_person_with_five_accounts_on_one_phone_cannot_fill_a_group(make, deps):
    app = make()
    c = campaign(group_size=5)
    share = open_over_http(app, deps, c, user())
    answers = [join(app, token_for(app, user()), share, device=PHONE) for _ in range(4)]
    assert [a.status_code for a in answers] == [403] * 4
    refusal = answers[0].get_json()['error']
    assert refusal['code'] == 'not_allowed' and 'device' not in refusal['message'] and '设备' not in refusal['message']
    assert Seat.select().where(Seat.group == Group.get(Group.share_code == share).id).count() == 1
    logged = list(RiskCheck.select().where(RiskCheck.action == 'join').order_by(RiskCheck.id))
    assert [(r.decision, r.device) for r in logged] == [('block', PHONE)] * 4
    assert all('device_in_group' in r.reasons for r in logged)


def test_three_real_friends_on_their_own_phones_behind_one_office_address_all_join(make, deps):
    app = make()
    c = campaign(group_size=4)
    share = open_over_http(app, deps, c, user(), dev=device(0), address=OFFICE)
    answers = [join(app, token_for(app, user()), share, device=device(n), address=OFFICE) for n in (1, 2, 3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    for a in answers:
        pay(deps, Order.get(Order.out_trade_no == a.get_json()['order']['out_trade_no']))
    assert Group.get(Group.share_code == share).status == 'succeeded'
    assert {r.network for r in RiskCheck.select()} == {'49.7.21.0/24'}


def test_a_seat_squatter_cannot_take_the_seat_again_after_an_unpaid_window(make, deps, clock):
    app = make()
    c = campaign(group_size=2)
    share = open_over_http(app, deps, c, user(), dev=device(0))
    squatter, token = user(), None
    token = token_for(app, squatter)
    assert join(app, token, share, device=device(1)).status_code == 201
    clock.advance(deps.pay_window_s + 61)  # the window, and WeChat's grace for a payer still typing
    seat = Seat.get(Seat.user == squatter.id)
    assert settlement.release_seat(deps, seat.id) is True
    again = join(app, token, share, device=device(1))
    assert (again.status_code, again.get_json()['error']['code']) == (403, 'not_allowed')
    buyer = join(app, token_for(app, user()), share, device=device(2))
    assert buyer.status_code == 201  # the real buyer gets the seat the squatter kept taking
    clock.advance(RuleConfig().seat_cooldown_s + 1)
    other_group = open_over_http(app, deps, campaign(group_size=3), user(), dev=device(3))
    assert join(app, token, other_group, device=device(1)).status_code == 201  # one abandonment is no ban


def test_repeated_abandonment_blocks_joining_for_a_while(make, deps, clock):
    app = make()
    squatter = user()
    token = token_for(app, squatter)
    for n in range(RuleConfig().abandon_limit):
        share = open_over_http(app, deps, campaign(group_size=3), user(), dev=device(10 + n))
        assert join(app, token, share, device=device(1)).status_code == 201
        clock.advance(deps.pay_window_s + 61)
        settlement.release_seat(deps, Seat.get(Seat.user == squatter.id, Seat.status == 'reserved').id)
    fresh = open_over_http(app, deps, campaign(group_size=3, duration_s=86400), user(), dev=device(20))
    assert join(app, token, fresh, device=device(1)).status_code == 403
    clock.advance(RuleConfig().abandon_block_s + 1)
    assert join(app, token, fresh, device=device(1)).status_code == 201


def test_blocklisted_devices_and_addresses_are_refused_with_the_same_words(make, deps, clock):
    app = make()
    share = open_over_http(app, deps, campaign(group_size=5, duration_s=86400), user(), dev=device(0))
    blocklist.add('device', device(7), 'known farm', clock.now(), by='test')
    blocklist.add('network', '198.51.100.20', 'farm range', clock.now(), by='test', hours=1)
    by_device = join(app, token_for(app, user()), share, device=device(7))
    by_network = join(app, token_for(app, user()), share, device=device(8), address='198.51.100.99')
    assert by_device.status_code == by_network.status_code == 403
    assert by_device.get_json()['error']['message'] == by_network.get_json()['error']['message']
    clock.advance(3601)  # the network entry ran out
    assert join(app, token_for(app, user()), share, device=device(9), address='198.51.100.99').status_code == 201


def test_a_busy_public_network_is_asked_to_verify_a_phone_and_passes_with_one(make, deps, clock):
    app = make()
    c = campaign(group_size=10)
    c.risk_rules = json.dumps({'network_accounts_limit': 3})
    c.save()
    share = open_over_http(app, deps, c, user(), dev=device(0), address=OFFICE)
    for n in (1, 2):
        assert join(app, token_for(app, user()), share, device=device(n), address=OFFICE).status_code == 201
    stranger = user()
    asked = join(app, token_for(app, stranger), share, device=device(3), address=OFFICE)
    assert (asked.status_code, asked.get_json()['error']['code']) == (403, 'verification_required')
    stranger.phone = '13800000000'
    stranger.save()
    assert join(app, token_for(app, stranger), share, device=device(3), address=OFFICE).status_code == 201


def fresh_fill(app, deps, size=5):
    """A group whose every member is a brand-new account (a farm, or a very viral leader): held for review."""
    share = open_over_http(app, deps, campaign(group_size=size), user(), dev=device(0))
    for n in range(1, size):
        answer = join(app, token_for(app, user()), share, device=device(100 + n))
        assert answer.status_code == 201
        outcome = pay(deps, Order.get(Order.out_trade_no == answer.get_json()['order']['out_trade_no']))
    assert outcome == 'group_in_review'
    return Group.get(Group.share_code == share)


def test_a_group_filled_by_fresh_accounts_waits_for_review_and_its_money_ends_fulfilled_or_refunded(make, deps, clock):
    app = make()
    approved, rejected, forgotten = fresh_fill(app, deps), fresh_fill(app, deps), fresh_fill(app, deps)
    for g in (approved, rejected, forgotten):
        assert Group.get_by_id(g.id).status == 'reviewing'
        assert {o.status for o in Order.select().where(Order.group == g.id)} == {'paid'}  # held, nothing given
    assert [h.progress.group_id for h in review.queue()] == [approved.id, rejected.id, forgotten.id]
    assert 'fresh_fill' in review.queue()[0].reasons
    assert join(app, token_for(app, user()), approved.share_code, device=device(999)).status_code == 409
    assert review.decide(deps, approved.id, approve=True) == 'succeeded'
    assert review.decide(deps, rejected.id, approve=False) == 'failed'
    clock.advance(RuleConfig().review_s + 3600 + 1)  # nobody decided the third in time
    assert settlement.settle_group(deps, forgotten.id) == 'failed'
    deps.jobs.run()
    confirm_refunds(deps)
    assert {o.status for o in Order.select().where(Order.group == approved.id)} == {'fulfilled'}
    for g in (rejected, forgotten):
        assert {o.status for o in Order.select().where(Order.group == g.id)} == {'refunded'}
    assert audit.audit(clock.now(), grace_s=0) == []


def test_a_group_in_review_past_its_time_is_an_audit_offender_until_settled(make, deps, clock):
    app = make()
    held = fresh_fill(app, deps)
    clock.advance(RuleConfig().review_s + 3600 + 601)
    assert [o.rule for o in audit.audit(clock.now())] == ['review_not_settled']
    settlement.settle_group(deps, held.id)
    deps.jobs.run()
    confirm_refunds(deps)
    assert audit.audit(clock.now()) == []


def test_the_replay_of_the_recorded_log_gives_the_live_decisions_and_shows_a_rule_change(make, deps, clock):
    app = make()
    share = open_over_http(app, deps, campaign(group_size=6), user(), dev=device(0))
    for n in range(3):
        join(app, token_for(app, user()), share, device=PHONE)  # one allowed, two blocked (device_in_group)
        clock.advance(5)
    join(app, token_for(app, user()), share, device=device(5))
    live = replay(None, None)
    assert live.changes == [] and live.checked == 5 and live.live == live.replayed
    assert (live.live['allow'], live.live['block']) == (3, 2)
    looser = replay(None, None, RuleConfig(device_accounts_per_group=3))
    assert [(c.live, c.replayed) for c in looser.changes] == [('block', 'allow'), ('block', 'allow')]


def test_flask_risk_replay_prints_the_table(make, deps, clock, tmp_path):
    app = make()
    share = open_over_http(app, deps, campaign(group_size=4), user(), dev=device(0))
    join(app, token_for(app, user()), share, device=device(0))
    rules = tmp_path / 'rules.json'
    rules.write_text('{"device_accounts_per_group": 2}')
    result = app.test_cli_runner().invoke(args=['risk', 'replay', '--rules', str(rules)])
    assert result.exit_code == 0, result.output
    assert '2 opens and joins replayed' in result.output and '1 decision(s) would change' in result.output
    bad = app.test_cli_runner().invoke(args=['risk', 'replay', '--rules', str(tmp_path / 'x.json')])
    assert bad.exit_code != 0
    rules.write_text('{"no_such_rule": 1}')
    assert 'unknown risk rule settings' in app.test_cli_runner().invoke(
        args=['risk', 'replay', '--rules', str(rules)]).output


def test_open_of_a_blocked_user_is_refused_and_nothing_is_written(make, deps, clock):
    app = make()
    leader = user()
    blocklist.add('user', str(leader.id), 'chargebacks', clock.now(), by='test')
    answer = app.test_client().post('/api/groups', json={'campaign_id': campaign().id},
                                    headers={'Authorization': f'Bearer {token_for(app, leader)}'})
    assert (answer.status_code, answer.get_json()['error']['code']) == (403, 'not_allowed')
    assert not Group.select().exists() and RiskCheck.get().reasons == 'blocklist_user'


def test_a_group_in_review_counts_as_opened_and_not_yet_decided(make, deps):
    from groupbuy import analytics
    held = fresh_fill(make(), deps)
    numbers = analytics.summary(analytics.Scope(campaign_id=held.campaign_id))
    assert (numbers['groups_opened'], numbers['groups_succeeded'], numbers['groups_failed']) == (1, 0, 0)
    assert numbers['success_rate'] is None  # nothing decided yet
