"""A/B tests of group rules ("Operator console" §4): which variant a leader's new group takes, what each
variant's groups did, and what that says in words an operator can act on.

A leader's variant comes from a stable hash of (campaign, leader), so the same person always lands in the same
variant of a campaign and the variants fill in proportion to their weights. Members join the leader's group
and so its variant. Stopping a test names a winner for new groups only: every group keeps the rules it was
opened with (`Group.size`, `duration_s`, `price_fen`) to its end.
"""
import datetime as dt
import hashlib
import math
from dataclasses import dataclass

from peewee import JOIN, fn

from . import catalog, errors
from .catalog import GroupRules
from .domain_events import ExperimentStopped
from .event_log import first_at
from .models import OPENED_GROUP, Campaign, CampaignVariant, Group, Order, Refund
from .transition import transition

Z95 = 1.96  # the standard normal quantile of a two-sided 95 % interval (and a 5 % two-sided test)
Z_POWER = 0.8416  # the quantile for 80 % power: the usual planning value for "how many more groups"


# --- who gets which rules -------------------------------------------------------------------------------

def assign(campaign_id: int, user_id: int, weights: list[int]) -> int:
    """The index of the weight this user falls on: the first 8 bytes of sha256('<campaign>:<user>') read as a
    fraction of 2^64 and laid over the cumulative weights. Stable across processes and releases (not Python's
    salted hash()), and independent between campaigns (the campaign is part of what is hashed)."""
    digest = hashlib.sha256(f'{campaign_id}:{user_id}'.encode()).digest()
    point = (int.from_bytes(digest[:8], 'big') * sum(weights)) >> 64  # uniform in [0, sum(weights))
    for index, weight in enumerate(weights):
        if point < weight:
            return index
        point -= weight
    raise ValueError('weights must be positive')


def variant_for(campaign: Campaign, user_id: int,
                variants: list[CampaignVariant] | None = None) -> CampaignVariant | None:
    """The variant a group opened by `user_id` takes: the winner once the test is stopped, else the user's
    weighted bucket. None for a campaign without variants. `variants` defaults to the campaign's (one query)."""
    variants = catalog.variants_of(campaign) if variants is None else variants
    if not variants:
        return None
    if campaign.winner_variant is not None:
        winner = next((v for v in variants if v.name == campaign.winner_variant), None)
        if winner is not None:
            return winner
    return variants[assign(campaign.id, user_id, [v.weight for v in variants])]


def rules_for(campaign: Campaign, user_id: int) -> GroupRules:
    """The rules of a new group opened by `user_id`: their variant's, or the campaign's own."""
    return catalog.rules_of(variant_for(campaign, user_id) or campaign)


def stop_test(deps, campaign_id: int, winner: str) -> Campaign:
    """Stop the campaign's A/B test: from now on every new group takes `winner`'s rules; groups in flight
    keep theirs. Raises NotFound (no such campaign, or it runs no test), InvalidInput (no variant of that
    name), InvalidTransition (already stopped)."""
    campaign = catalog.get_campaign(campaign_id)
    names = [v.name for v in _variants_or_not_found(campaign)]
    if winner not in names:
        raise errors.InvalidInput(f'campaign {campaign_id} has no variant {winner!r}; it has {", ".join(names)}',
                                  field='winner')
    if campaign.winner_variant is not None:
        raise errors.InvalidTransition(f'the test already stopped: {campaign.winner_variant} won')
    with transition(deps) as t:
        stopped = (Campaign.update(winner_variant=winner)
                   .where(Campaign.id == campaign.id, Campaign.winner_variant.is_null()).execute())
        if not stopped:  # another operator stopped it a moment ago
            raise errors.InvalidTransition('the test already stopped')
        t.emit(ExperimentStopped(campaign.id, winner))
    campaign.winner_variant = winner
    return campaign


def _variants_or_not_found(campaign: Campaign) -> list[CampaignVariant]:
    variants = catalog.variants_of(campaign)
    if not variants:
        raise errors.NotFound(f'campaign {campaign.id} runs no A/B test')
    return variants


# --- the statistics ----------------------------------------------------------------------------------------

def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (Wilson 1927; Newcombe 1998, method 3): unlike p ± z·√(pq/n)
    it stays inside [0, 1] and keeps its coverage for small n and for rates near 0 or 1.
    (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n). None when n = 0: nothing decided, nothing to say."""
    if not 0 <= successes <= n:
        raise ValueError('need 0 <= successes <= n')
    if n == 0:
        return None
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_with_interval(values: list[float], z: float = Z95) -> tuple[float | None, tuple[float, float] | None]:
    """Revenue per opened group: the mean of the per-group values with a normal-approximation 95 % interval,
    mean ± z·s/√n, s the sample standard deviation (n − 1 in the denominator). The approximation (central
    limit theorem) is fair from a few dozen groups on; it is not a bootstrap and it can dip below zero for
    small, skewed samples. (None, None) for no groups; (mean, None) for one (no spread to measure)."""
    n = len(values)
    if n == 0:
        return None, None
    mean = sum(values) / n
    if n == 1:
        return mean, None
    s = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = z * s / math.sqrt(n)
    return mean, (mean - half, mean + half)


def two_proportion_p(s1: int, n1: int, s2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test: z = (p1 − p2) / √(p(1−p)(1/n1 + 1/n2)),
    p the pooled rate; p-value = erfc(|z|/√2)."""
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0  # both all-succeeded or both all-failed: no difference
    return math.erfc(abs(s1 / n1 - s2 / n2) / se / math.sqrt(2))


def groups_needed(p1: float, p2: float, z_alpha: float = Z95, z_power: float = Z_POWER) -> int:
    """Decided groups each of two variants needs to tell rates p1 and p2 apart (5 % two-sided, 80 % power):
    n = (z_α·√(2·p̄(1−p̄)) + z_β·√(p1(1−p1) + p2(1−p2)))² / (p1 − p2)², p̄ = (p1 + p2)/2 — the standard
    formula for comparing two proportions (Fleiss, without continuity correction), rounded up."""
    if p1 == p2:
        raise ValueError('equal rates: no sample size tells them apart')
    mean = (p1 + p2) / 2
    root = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_power * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(root * root / (p1 - p2) ** 2)


@dataclass(frozen=True)
class Verdict:
    text: str
    leader: str | None  # the variant ahead on 成团率 (None: no comparison yet, or a tie)
    significant: bool
    more_decided_needed: int | None  # more decided groups, over the two compared variants (None: no estimate)
    p_value: float | None


def verdict(arms: list[tuple[str, int, int]], alpha: float = 0.05) -> Verdict:
    """What the numbers say, in the console's words. `arms`: (name, succeeded, decided) per variant.
    The variant with the highest 成团率 is compared with the runner-up (the closest challenger, so with three
    or more variants the answer is about the top two) by the pooled two-proportion z-test; when not yet
    significant, the more groups needed come from `groups_needed` at the rates seen so far."""
    waiting = [name for name, _, decided in arms if decided == 0]
    if len(arms) < 2:
        return Verdict('只有一个方案，无从比较', None, False, None, None)
    if waiting:
        return Verdict(f'还不能比较：{"、".join(waiting)} 还没有已结束的团', None, False, None, None)
    ranked = sorted(arms, key=lambda a: a[1] / a[2], reverse=True)  # stable: ties keep the defined order
    (lead, s1, n1), (other, s2, n2) = ranked[0], ranked[1]
    p1, p2 = s1 / n1, s2 / n2
    if p1 == p2:
        return Verdict(f'{lead} 与 {other} 持平（成团率都是 {_pct(p1)}），目前看不出差别', None, False, None, 1.0)
    p_value = two_proportion_p(s1, n1, s2, n2)
    rates = f'成团率 {_pct(p1)} 对 {other} 的 {_pct(p2)}'
    if p_value < alpha:
        return Verdict(f'{lead} 领先，差异显著（{rates}，{_p(p_value)}）：可以停止测试，选 {lead}',
                       lead, True, 0, p_value)
    each = groups_needed(p1, p2)  # at the rates seen, both variants reach it only with a significant difference
    more = max(0, each - n1) + max(0, each - n2)
    return Verdict(f'{lead} 领先（{rates}），尚不显著：大约还需要 {more} 个已结束的团（每个方案约 {each} 个）',
                   lead, False, more, p_value)


def _pct(rate: float) -> str:
    return f'{rate * 100:.1f}%'


def _p(p_value: float) -> str:
    return 'p < 0.001' if p_value < 0.001 else f'p = {p_value:.3f}'


# --- the results page --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VariantResult:
    name: str
    weight: int
    rules: GroupRules
    opened: int  # groups whose leader paid
    decided: int  # succeeded + failed
    succeeded: int
    success_rate: float | None  # 成团率: succeeded / decided
    success_interval: tuple[float, float] | None  # Wilson, 95 %
    revenue_per_group_fen: float | None  # per opened group: paid group-buy orders minus their refunds
    revenue_interval_fen: tuple[float, float] | None  # normal approximation, 95 %


@dataclass(frozen=True)
class Results:
    campaign_id: int
    winner: str | None
    stopped_at: dt.datetime | None
    variants: list[VariantResult]
    verdict: Verdict


def results(campaign_id: int) -> Results:
    """Per variant: groups opened, decided, succeeded, 成团率 with its Wilson interval, revenue per opened
    group with its interval; and the verdict. Counts the groups opened while the test ran (after a stop every
    new group takes the winner: those are no longer a comparison). Revenue is what paid group-buy orders
    brought in minus every refund of them (a refund still on its way is money going back). Raises NotFound."""
    campaign = catalog.get_campaign(campaign_id)
    variants = _variants_or_not_found(campaign)
    stopped_at = first_at(ExperimentStopped.log_kind, campaign=campaign.id) if campaign.winner_variant else None
    revenue = fn.COALESCE(fn.SUM(Order.amount_fen), 0) - fn.COALESCE(fn.SUM(Refund.amount_fen), 0)
    query = (Group.select(Group.variant, Group.status, revenue.alias('revenue'))
             .join(Order, JOIN.LEFT_OUTER, on=((Order.group == Group.id) & (Order.kind == 'group_buy')
                                               & Order.paid_at.is_null(False)))
             .join(Refund, JOIN.LEFT_OUTER, on=(Refund.order == Order.id))  # one per order: a test has no tiers
             .where(Group.campaign == campaign.id, Group.status.in_(OPENED_GROUP))
             .group_by(Group.id, Group.variant, Group.status))
    if stopped_at is not None:
        query = query.where(Group.opened_at < stopped_at)
    groups: dict[str, list[tuple[str, int]]] = {v.name: [] for v in variants}
    for row in query.tuples():
        groups.get(row[0], []).append((row[1], int(row[2])))
    rows = [_variant_result(v, groups[v.name]) for v in variants]
    return Results(campaign.id, campaign.winner_variant, stopped_at, rows,
                   verdict([(r.name, r.succeeded, r.decided) for r in rows]))


def _variant_result(variant: CampaignVariant, groups: list[tuple[str, int]]) -> VariantResult:
    succeeded = sum(1 for status, _ in groups if status == 'succeeded')
    decided = succeeded + sum(1 for status, _ in groups if status == 'failed')
    mean, interval = mean_with_interval([revenue for _, revenue in groups])
    return VariantResult(name=variant.name, weight=variant.weight, rules=catalog.rules_of(variant),
                         opened=len(groups), decided=decided, succeeded=succeeded,
                         success_rate=succeeded / decided if decided else None,
                         success_interval=wilson(succeeded, decided),
                         revenue_per_group_fen=mean, revenue_interval_fen=interval)
