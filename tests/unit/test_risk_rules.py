"""The risk rules as pure functions: each verdict and reason from plain facts, no database."""
import pytest

from groupbuy.risk.rules import Attempt, Fill, History, RuleConfig, decide, review_fill
from groupbuy.risk.signals import Signals, network_of

RULES = RuleConfig()
JOIN = Attempt(action='join', account_age_s=86400, has_phone=False, has_device=True)


@pytest.mark.parametrize('history, verdict, reasons', [
    (History(), 'allow', ()),
    (History(blocklisted=('device',)), 'block', ('blocklist_device',)),
    (History(released_here_ago_s=60), 'block', ('seat_cooldown',)),
    (History(released_here_ago_s=RULES.seat_cooldown_s), 'allow', ()),
    (History(abandoned=3, last_abandoned_ago_s=60), 'block', ('repeated_abandonment',)),
    (History(abandoned=3, last_abandoned_ago_s=RULES.abandon_block_s), 'allow', ()),
    (History(abandoned=2, last_abandoned_ago_s=60), 'allow', ()),
    (History(device_accounts_in_group=1), 'block', ('device_in_group',)),
    (History(device_attempts=RULES.device_attempts_limit), 'block', ('device_velocity',)),
    (History(device_accounts=RULES.device_accounts_limit), 'review', ('device_accounts',)),
    (History(network_accounts=RULES.network_accounts_limit), 'challenge', ('network_velocity',)),
    (History(network_accounts=RULES.network_accounts_limit, device_accounts_in_group=1), 'block',
     ('device_in_group', 'network_velocity')),
])
def test_a_join_s_verdict_is_its_strongest_reason(history, verdict, reasons):
    decision = decide(JOIN, history, RULES)
    assert (decision.verdict, decision.reasons) == (verdict, reasons)


def test_device_rules_need_a_device_and_the_network_rule_a_public_address_and_no_phone():
    crowd = History(device_accounts_in_group=3, device_attempts=99, network_accounts=999)
    no_device = Attempt(action='join', account_age_s=0, has_phone=False, has_device=False)
    assert decide(no_device, crowd, RULES).reasons == ('network_velocity',)
    assert decide(Attempt('join', 0, has_phone=True, has_device=False), crowd, RULES).verdict == 'allow'
    behind_proxy = Attempt('join', 0, has_phone=False, has_device=False, public_address=False)
    assert decide(behind_proxy, crowd, RULES).verdict == 'allow'


def test_opening_is_not_judged_by_seat_rules_and_switched_off_rules_allow_everything():
    opening = Attempt(action='open', account_age_s=0, has_phone=False, has_device=True)
    assert decide(opening, History(released_here_ago_s=1, device_accounts_in_group=5), RULES).verdict == 'allow'
    assert decide(JOIN, History(blocklisted=('user',)), RuleConfig(enabled=False)).verdict == 'allow'


def test_a_new_users_only_campaign_refuses_a_device_that_paid_under_another_account():
    fresh = Attempt(action='join', account_age_s=0, has_phone=False, has_device=True, new_users_only=True)
    assert decide(fresh, History(device_paid_before=True), RULES).reasons == ('not_a_new_user',)
    assert decide(JOIN, History(device_paid_before=True), RULES).verdict == 'allow'


@pytest.mark.parametrize('fill, reasons', [
    (Fill(members=4, fresh_members=4, most_seats_one_payer=1), ('fresh_fill',)),
    (Fill(members=4, fresh_members=3, most_seats_one_payer=1), ()),
    (Fill(members=2, fresh_members=2, most_seats_one_payer=1), ()),  # a small group of new friends is normal
    (Fill(members=2, fresh_members=0, most_seats_one_payer=2), ('payer_in_group',)),
    (Fill(members=2, fresh_members=0, most_seats_one_payer=1, flagged=('device_accounts',)), ('device_accounts',)),
])
def test_a_fill_goes_to_review_for_each_reason_and_only_then(fill, reasons):
    decision = review_fill(fill, RULES)
    assert (decision.verdict, decision.reasons) == ('review' if reasons else 'allow', reasons)


def test_rule_settings_come_from_json_and_refuse_what_they_do_not_know():
    rules = RuleConfig.from_json('{"seat_cooldown_s": 60, "enabled": false}')
    assert (rules.seat_cooldown_s, rules.enabled, rules.abandon_limit) == (60, False, RULES.abandon_limit)
    assert rules.version != RULES.version and RuleConfig.from_json(None).version == RULES.version
    for bad in ('{"nope": 1}', '{"seat_cooldown_s": -1}', '{"seat_cooldown_s": true}', '{"enabled": 1}'):
        with pytest.raises(ValueError):
            RuleConfig.from_json(bad)


def test_an_address_s_network_is_its_24_or_64_and_private_ones_are_not_public():
    assert network_of('49.7.21.36') == '49.7.21.0/24'
    assert network_of('2408:8207:1851:9::1') == '2408:8207:1851:9::/64'
    assert network_of('not an address') == ''
    assert Signals(ip='49.7.21.36').public and not Signals(ip='10.0.0.8').public and not Signals(ip='127.0.0.1').public
