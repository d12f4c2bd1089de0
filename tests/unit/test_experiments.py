"""A/B tests of group rules, the pure parts: who lands in which variant (stable, balanced by weight), the
intervals on fixed inputs against hand-computed and published values, and the verdict's words and numbers.
The chi-square p-value is computed here from the regularized upper incomplete gamma function (no scipy)."""
import hashlib
import math

import pytest

from groupbuy import experiments
from groupbuy.experiments import assign, groups_needed, mean_with_interval, two_proportion_p, verdict, wilson
from groupbuy.models import Campaign, CampaignVariant

USERS = range(1, 10_001)  # 10,000 synthetic users


# --- a chi-square p-value from first principles ------------------------------------------------------------

def upper_gamma_q(a: float, x: float) -> float:
    """Q(a, x) = Γ(a, x) / Γ(a): the series for P below a + 1, Lentz's continued fraction above
    (Numerical Recipes §6.2)."""
    if x <= 0:
        return 1.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1 / a
        n = a
        while abs(term) > abs(total) * 1e-15:
            n += 1
            term *= x / n
            total += term
        return 1 - total * math.exp(log_prefix)
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return math.exp(log_prefix) * h


def chi_square_p(observed: list[int], expected: list[float]) -> float:
    """Pearson's goodness of fit: p = Q(df/2, χ²/2), df = categories − 1."""
    statistic = sum((o - e) ** 2 / e for o, e in zip(observed, expected))
    return upper_gamma_q((len(observed) - 1) / 2, statistic / 2)


@pytest.mark.parametrize('df, statistic, p', [
    (1, 3.841458820694124, 0.05), (1, 6.634896601021214, 0.01), (2, 5.991464547107979, 0.05),
    (3, 7.814727903251178, 0.05), (3, 11.344866730144373, 0.01), (4, 0.7107230213973241, 0.95)])
def test_the_chi_square_p_value_matches_the_textbook_critical_values(df, statistic, p):
    assert upper_gamma_q(df / 2, statistic / 2) == pytest.approx(p, abs=1e-9)


@pytest.mark.parametrize('statistic', [0.01, 0.5, 1.0, 2.7, 9.0, 25.0])
def test_the_chi_square_p_value_matches_the_closed_forms_for_one_and_two_degrees_of_freedom(statistic):
    assert upper_gamma_q(0.5, statistic / 2) == pytest.approx(math.erfc(math.sqrt(statistic / 2)), rel=1e-9)
    assert upper_gamma_q(1.0, statistic / 2) == pytest.approx(math.exp(-statistic / 2), rel=1e-9)


# --- assignment ----------------------------------------------------------------------------------------------

def arms(*weights, winner=None, campaign_id=42):
    campaign = Campaign(id=campaign_id, winner_variant=winner)
    variants = [CampaignVariant(name='ABCDE'[i], weight=w, group_size=2 + i, duration_s=3600,
                                group_price_fen=9900 - 1000 * i) for i, w in enumerate(weights)]
    return campaign, variants


def counts(campaign, variants) -> list[int]:
    seen = {v.name: 0 for v in variants}
    for user_id in USERS:
        seen[experiments.variant_for(campaign, user_id, variants).name] += 1
    return [seen[v.name] for v in variants]


@pytest.mark.parametrize('weights', [(1, 1), (1, 1, 1), (1, 3), (2, 1, 1), (1, 2, 3)])
def test_assignment_fills_variants_in_proportion_to_their_weights(weights):
    campaign, variants = arms(*weights)
    observed = counts(campaign, variants)
    expected = [len(USERS) * w / sum(weights) for w in weights]
    assert chi_square_p(observed, expected) > 0.01, (observed, expected)


def test_the_balance_check_catches_a_skewed_assignment():
    """The same check fails an assignment 2 points off its weights (52 : 48, χ² = 16): it can tell."""
    observed = [sum(1 for u in USERS if u % 100 < 52), sum(1 for u in USERS if u % 100 >= 52)]
    assert chi_square_p(observed, [5000, 5000]) < 0.01


def test_a_user_keeps_their_variant_whenever_and_however_it_is_asked():
    campaign, variants = arms(1, 1, 1)
    first = [experiments.variant_for(campaign, u, variants).name for u in range(1, 500)]
    again_campaign, fresh = arms(1, 1, 1)  # new objects: nothing is cached
    assert [experiments.variant_for(again_campaign, u, fresh).name for u in range(1, 500)] == first
    assert len(set(first)) == 3


def test_the_mapping_is_pinned_so_a_release_never_moves_people_mid_test():
    """sha256('<campaign>:<user>'), first 8 bytes over the cumulative weights: these values must not change."""
    assert [assign(42, u, [1, 1]) for u in range(1, 11)] == [0, 1, 1, 0, 0, 0, 0, 0, 0, 1]
    assert [assign(7, u, [1, 2, 3]) for u in range(1, 11)] == [2, 2, 0, 0, 2, 2, 0, 0, 2, 2]
    point = int(hashlib.sha256(b'7:3').hexdigest()[:16], 16) * 6 >> 64  # user 3 of campaign 7, weights 1+2+3
    assert point == 0 and assign(7, 3, [1, 2, 3]) == 0  # [0, 1) is the first variant's


def test_campaigns_shuffle_people_independently():
    """Being in A of one campaign says nothing about the next one (the campaign is hashed too)."""
    agree = sum(assign(1, u, [1, 1]) == assign(2, u, [1, 1]) for u in USERS) / len(USERS)
    assert 0.47 < agree < 0.53


def test_a_stopped_test_sends_everyone_to_the_winner_and_no_variants_means_none():
    campaign, variants = arms(1, 1, winner='B')
    assert {experiments.variant_for(campaign, u, variants).name for u in range(1, 200)} == {'B'}
    assert experiments.variant_for(Campaign(id=1, winner_variant=None), 5, []) is None


def test_a_variant_s_rules_give_the_leader_price_or_else_the_member_price():
    from groupbuy.catalog import rules_of
    cheap_leader = CampaignVariant(name='A', weight=1, group_size=3, duration_s=600, group_price_fen=9900,
                                   leader_price_fen=8900)
    same = CampaignVariant(name='B', weight=1, group_size=5, duration_s=900, group_price_fen=7900)
    assert (rules_of(cheap_leader).leader_price_fen, rules_of(cheap_leader).variant) == (8900, 'A')
    assert rules_of(same) == rules_of(same).__class__(size=5, duration_s=900, price_fen=7900, leader_price_fen=7900,
                                                      variant='B')


# --- the intervals -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('successes, n, low, high', [  # Newcombe (1998), Statistics in Medicine 17:857, method 3
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0000, 0.1611), (1, 29, 0.0061, 0.1718)])
def test_wilson_matches_the_published_intervals(successes, n, low, high):
    got = wilson(successes, n)
    assert got == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_wilson_by_hand_for_81_of_263():
    """p = 0.307985, z² = 3.8416, 1 + z²/n = 1.0146068. Centre (p + z²/2n)/(1 + z²/n) = 0.3152884/1.0146068
    = 0.310749; half-width 1.96·√(0.00081038 + 0.00001389)/1.0146068 = 0.055462."""
    assert wilson(81, 263) == (pytest.approx(0.310749 - 0.055462, abs=2e-6),
                               pytest.approx(0.310749 + 0.055462, abs=2e-6))


def test_wilson_edges():
    assert wilson(0, 0) is None  # nothing decided yet: no interval, not a division by zero
    low, high = wilson(20, 20)
    assert high == 1.0 and low == pytest.approx(1 - wilson(0, 20)[1])  # mirror image of 0/20
    assert wilson(1, 1, z=1.96)[0] > 0.2  # one success is weak evidence, unlike the Wald interval's [1, 1]
    wide, narrow = wilson(81, 263, z=2.576), wilson(81, 263)
    assert wide[0] < narrow[0] and wide[1] > narrow[1]  # 99 % is wider than 95 %
    with pytest.raises(ValueError):
        wilson(5, 3)


def test_revenue_per_group_by_hand():
    """[100, 200, 300, 400] fen: mean 250, s = √(50000/3) = 129.0994, s/√4 = 64.5497, ±1.96·64.5497 = 126.5175."""
    mean, (low, high) = mean_with_interval([100, 200, 300, 400])
    assert mean == 250 and low == pytest.approx(123.4825, abs=1e-4) and high == pytest.approx(376.5175, abs=1e-4)


def test_revenue_per_group_edges():
    assert mean_with_interval([]) == (None, None)
    assert mean_with_interval([9900]) == (9900, None)  # one group: no spread to measure
    assert mean_with_interval([9900, 9900, 9900]) == (9900, (9900, 9900))


# --- the verdict ---------------------------------------------------------------------------------------------

def test_the_sample_size_matches_the_textbook_value_for_30_against_40_percent():
    """(1.96·√(2·0.35·0.65) + 0.8416·√(0.21 + 0.24))² / 0.1² = 355.95 → 356 per group (Fleiss, 5 %, 80 % power)."""
    assert groups_needed(0.30, 0.40) == groups_needed(0.40, 0.30) == 356
    assert groups_needed(0.30, 0.50) < groups_needed(0.30, 0.40)  # a bigger difference needs fewer groups
    with pytest.raises(ValueError):
        groups_needed(0.3, 0.3)


def test_the_two_proportion_test_by_hand():
    """30/100 against 45/100: pooled 0.375, se = √(0.375·0.625·0.02) = 0.068465, z = 2.1909, p = 0.0285."""
    assert two_proportion_p(30, 100, 45, 100) == pytest.approx(0.02846, abs=1e-5)
    assert two_proportion_p(0, 10, 0, 20) == 1.0


def test_ahead_but_not_yet_significant_says_how_many_more_groups():
    v = verdict([('A', 30, 100), ('B', 40, 100)])
    assert v.text == 'B 领先（成团率 40.0% 对 A 的 30.0%），尚不显著：大约还需要 512 个已结束的团（每个方案约 356 个）'
    assert (v.leader, v.significant, v.more_decided_needed) == ('B', False, 2 * (356 - 100))
    assert v.p_value == pytest.approx(0.1382, abs=1e-4)


def test_a_significant_lead_says_so():
    v = verdict([('A', 30, 100), ('B', 45, 100)])
    assert v.text == 'B 领先，差异显著（成团率 45.0% 对 A 的 30.0%，p = 0.028）：可以停止测试，选 B'
    assert (v.leader, v.significant, v.more_decided_needed) == ('B', True, 0)
    assert verdict([('A', 300, 1000), ('B', 100, 1000)]).text.endswith('p < 0.001）：可以停止测试，选 A')


def test_with_three_variants_the_leader_is_compared_with_the_runner_up():
    v = verdict([('A', 30, 100), ('B', 40, 100), ('C', 20, 100)])
    assert (v.leader, v.more_decided_needed) == ('B', 512) and '对 A 的 30.0%' in v.text


def test_no_comparison_before_every_variant_has_a_decided_group_and_none_on_a_tie():
    waiting = verdict([('A', 3, 10), ('B', 0, 0), ('C', 0, 0)])
    assert waiting.text == '还不能比较：B、C 还没有已结束的团' and waiting.leader is None
    tie = verdict([('A', 3, 10), ('B', 6, 20)])
    assert tie.text == 'A 与 B 持平（成团率都是 30.0%），目前看不出差别'
    assert (tie.leader, tie.more_decided_needed) == (None, None)
