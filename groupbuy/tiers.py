"""Tiered groups (阶梯团): the more people, the lower everyone's price.

A tiered group's members pay its smallest tier's price. Reaching the smallest tier's size makes success certain;
the group keeps taking members until its deadline or its largest tier (`Group.size`), and when it ends each payer
is refunded the difference to the tier it reached (one `tier_difference` refund per order, outcomes.py).
Pure functions over `[(size, price_fen), ...]`, ascending in size and descending in price.
"""
import json
from dataclasses import dataclass

MAX_TIERS = 5


@dataclass(frozen=True)
class Tier:
    size: int
    price_fen: int


def parse(raw: str | None) -> tuple[Tier, ...]:
    """A stored tiers column as tiers (none: not a tiered group)."""
    return tuple(Tier(int(size), int(price)) for size, price in json.loads(raw)) if raw else ()


def dump(tiers) -> str | None:
    return json.dumps([[t.size, t.price_fen] for t in tiers]) if tiers else None


def check(tiers: list[dict], list_price_fen: int) -> tuple[Tier, ...]:
    """Operator input as tiers. Raises ValueError (with the field at fault) unless 2..5 tiers, sizes rising
    from 2, prices falling, none above the course's own price."""
    if not 2 <= len(tiers) <= MAX_TIERS:
        raise ValueError(f'a tiered group has 2 to {MAX_TIERS} tiers')
    out = tuple(Tier(int(t['size']), int(t['price_fen'])) for t in tiers)
    for i, (lower, higher) in enumerate(zip(out, out[1:]), start=1):
        if higher.size <= lower.size:
            raise ValueError(f'tiers.{i}.size must be larger than the tier before it')
        if higher.price_fen >= lower.price_fen:
            raise ValueError(f'tiers.{i}.price_fen must be lower than the tier before it')
    if out[0].size < 2:
        raise ValueError('tiers.0.size must be at least 2')
    if out[0].price_fen > list_price_fen:
        raise ValueError('tiers.0.price_fen must not exceed the course price')
    if out[-1].price_fen < 1:
        raise ValueError(f'tiers.{len(out) - 1}.price_fen must be at least 1 fen')
    return out


def success_size(size: int, tiers) -> int:
    """How many paid seats decide success at the deadline: a tiered group's smallest tier, else its size."""
    return tiers[0].size if tiers else size


def reached(tiers, paid: int) -> Tier | None:
    """The largest tier `paid` members reach (None: not even the smallest)."""
    got = [t for t in tiers if paid >= t.size]
    return got[-1] if got else None


def next_tier(tiers, paid: int) -> Tier | None:
    """The next tier up (None: the largest is reached)."""
    return next((t for t in tiers if paid < t.size), None)


def difference_fen(charged_fen: int, discount_fen: int, tier: Tier | None) -> int:
    """What goes back to one payer: what they were asked (their price before any coupon) less the reached tier's
    price, leaving at least 1 fen charged (a coupon bigger than the last tier's price must not make the course free
    or leave a later full refund of 0 fen, which WeChat refuses). 0 for a free seat or a leader price already below
    the tier."""
    if tier is None or charged_fen <= 0:
        return 0
    return max(0, min(charged_fen - 1, charged_fen + discount_fen - tier.price_fen))


def view(tiers, paid: int) -> dict:
    """What the group page and every live event show of a tiered group: all tiers, the one reached (success is
    certain from the first), the next and how many more people reach it, and the price everyone ends up paying now."""
    got, up = reached(tiers, paid), next_tier(tiers, paid)
    return {'tiers': [{'size': t.size, 'price_fen': t.price_fen} for t in tiers],
            'reached': None if got is None else {'size': got.size, 'price_fen': got.price_fen},
            'next': None if up is None else {'size': up.size, 'price_fen': up.price_fen, 'more': up.size - paid},
            'price_now_fen': (got or tiers[0]).price_fen}
