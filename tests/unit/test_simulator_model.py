"""The crowd simulator's people (simulator/behaviour.py), its fit from recorded counts (simulator/fit.py) and
its advice (simulator/advice.py): pure, deterministic with a seeded generator."""
import random

import pytest

from simulator.advice import advise
from simulator.behaviour import Behaviour, GroupView, arrival_times, join_probability, poisson
from simulator.fit import fitted

FRESH = GroupView(price_fen=9900, list_price_fen=19900, size=3, seats_left=2, seconds_left=100, duration_s=120)


def test_parameters_load_from_json_over_the_defaults_and_refuse_unknown_or_bad_values():
    b = Behaviour.from_json('{"click_p": 0.2, "friends_per_share": 6}')
    assert (b.click_p, b.friends_per_share, b.share_p) == (0.2, 6.0, Behaviour().share_p)
    assert Behaviour.from_json(b.as_json().__repr__().replace("'", '"')) == b
    for bad, says in (('{"clik_p": 0.2}', 'clik_p'), ('{"click_p": 1.5}', 'out of range'),
                      ('{"pay_delay_s": -1}', 'out of range'), ('{"share_p": "high"}', 'a number'),
                      ('{"share_p": true}', 'a number'), ('[0.1]', 'JSON object'), ('{"share_p": NaN}', 'a number')):
        with pytest.raises(ValueError, match=says):
            Behaviour.from_json(bad)


def test_a_cheaper_price_a_last_seat_little_time_and_a_friends_card_each_make_joining_likelier():
    b = Behaviour()
    base = join_probability(b, FRESH, via_friend=False)
    assert 0 < base < 1
    cheaper = GroupView(**{**FRESH.__dict__, 'price_fen': 4900})
    last_seat = GroupView(**{**FRESH.__dict__, 'seats_left': 1})
    hurry = GroupView(**{**FRESH.__dict__, 'seconds_left': 10})
    bigger = GroupView(**{**FRESH.__dict__, 'size': 6})
    for likelier in (cheaper, last_seat, hurry):
        assert join_probability(b, likelier, via_friend=False) > base
    assert join_probability(b, FRESH, via_friend=True) > base
    assert join_probability(b, bigger, via_friend=False) < base


def test_the_same_seed_gives_the_same_arrivals_all_inside_the_window_at_the_asked_rate():
    first, again = arrival_times(random.Random(7), 1000, 300), arrival_times(random.Random(7), 1000, 300)
    assert first == again and first == sorted(first) and len(first) == 1000
    assert 0 <= first[0] and first[-1] <= 300
    assert 400 < sum(1 for t in first if t < 150) < 600  # about half in the first half


def test_friends_reached_per_share_average_their_mean():
    rng = random.Random(3)
    counts = [poisson(rng, 4.0) for _ in range(5000)]
    assert 3.8 < sum(counts) / len(counts) < 4.2 and min(counts) == 0
    assert poisson(rng, 0) == 0


def test_fitting_turns_a_campaigns_funnel_into_probabilities_and_keeps_what_it_cannot_see():
    b, basis = fitted(Behaviour(), groups_opened=100, shared=80, clicked=160, joined=80, paid=72, size=3,
                      price_fen=9900, list_price_fen=19900)
    assert (b.share_p, b.click_p, b.abandon_p) == (0.8, 0.5, 0.1)  # 160 taps / (80 shares × 4 friends)
    assert b.friends_per_share == Behaviour().friends_per_share
    # a friend's tap on a fresh group of these terms now joins as often as it did: 80 of 160
    fresh = GroupView(9900, 19900, 3, 2, float('inf'), 0)
    assert join_probability(b, fresh, via_friend=True) == pytest.approx(0.5, abs=1e-3)
    assert basis['not_enough_data'] == []
    empty, why = fitted(Behaviour(), groups_opened=0, shared=0, clicked=0, joined=0, paid=0, size=3,
                        price_fen=9900, list_price_fen=19900)
    assert empty == Behaviour() and why['not_enough_data'] == ['share_p', 'click_p', 'join_base', 'abandon_p']


def cell(cid, size, price, rate, per_leader, fill=30.0, formed=20):
    return {'campaign_id': cid, 'rules': f'{size}人 ¥{price}', 'size': size, 'duration_s': 120, 'price_fen': price,
            'success_rate': rate, 'fill_p50_s': fill, 'revenue_per_leader_fen': per_leader, 'formed': formed}


def test_the_advice_recommends_the_most_money_per_leader_among_rules_that_keep_enough_groups_succeeding():
    cells = [cell(1, 2, 9900, 0.9, 17000), cell(2, 4, 9900, 0.4, 20000), cell(3, 3, 4900, 0.95, 12000),
             cell(4, 3, 14900, None, None, fill=None, formed=0)]
    advice = advise(cells, min_success=0.6)
    assert [r['rules'] for r in advice['rows']] == ['4人 ¥9900', '2人 ¥9900', '3人 ¥4900', '3人 ¥14900']
    assert advice['recommended']['rules'] == '2人 ¥9900'
    assert [r['verdict'][:2] for r in advice['rows']] == ['成团', '推荐', '', '无结']
    assert advise(cells, min_success=0.99)['recommended']['rules'] == '3人 ¥4900'  # none good: the best 成团率
    assert advise([cell(4, 3, 14900, None, None)])['recommended'] is None


def test_the_system_table_prints_a_run_where_no_group_was_settled_by_its_deadline():
    """Every group filled before its deadline: no deadline lag to show (None in the JSON report), shown as '-'
    instead of failing the whole report (it did, in a CI run)."""
    from simulator import report
    figures = {'joins': 3, 'joins_per_s': 1.5, 'join_p50_ms': 12.0, 'join_p99_ms': 30.0, 'requests': 20,
               'errors': 0, 'rate_limited': 0, 'deadline_lag_p50_ms': None, 'deadline_lag_p99_ms': None,
               'deadline_lag_max_ms': None, 'deadline_settled_groups': 0, 'unsettled_groups': 0,
               'oversold_seats': 0, 'audit_clean': True, 'simulator_behind_p99_ms': 5.0, 'load_avg': None}
    lines = '\n'.join(report.system_table(figures))
    assert '| deadline lag p50 / p99 / max ms | - / - / - (0 groups) |' in lines
