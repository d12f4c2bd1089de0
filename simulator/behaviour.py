"""How the simulated people behave: one set of parameters (JSON-loadable, fitted by fit.py) and the pure
decisions drawn from them with a seeded random generator, so the same seed gives the same crowd."""
import dataclasses
import json
import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Behaviour:
    """Probabilities are per person and decision; times are means in seconds (exponentially distributed)."""
    open_p: float = 0.3  # someone who came on their own (no friend's card) opens a group; else looks at 凑团
    share_p: float = 0.7  # a leader who paid shares the group card
    member_share_p: float = 0.3  # a member who paid shares it too
    friends_per_share: float = 4.0  # friends one share reaches (mean of a Poisson count)
    click_p: float = 0.4  # a friend reached taps the card: they will arrive through it
    invite_ttl_s: float = 60.0  # a tapped card not followed by then is forgotten
    pay_delay_s: float = 4.0  # from the seat held to tapping pay
    share_delay_s: float = 3.0  # from paying to sharing
    abandon_p: float = 0.1  # a member who took a seat never pays (the pay window gives it back)
    leader_abandon_p: float = 0.05  # a leader who opened never pays (the group is cancelled)
    nudge_share_p: float = 0.5  # a paid member told "还差N人" shares again
    # Joining: a logistic model over what the group page shows (logit = the sum of these terms).
    join_base: float = -0.5
    join_discount_w: float = 3.0  # × the discount off the course's list price (0..1)
    join_last_seat_w: float = 0.8  # the group needs one more person ("还差1人")
    join_urgency_w: float = 0.5  # less than a fifth of the group's time is left
    join_size_w: float = -0.15  # × (group size − 2): bigger groups look harder to fill
    join_friend_w: float = 1.0  # a friend's card, not a stranger's group in the 凑团 list

    @classmethod
    def from_json(cls, raw: str) -> 'Behaviour':
        """The defaults with the changes in `raw` (a JSON object). Raises ValueError naming an unknown or bad
        field."""
        changes = json.loads(raw) if raw.strip() else {}
        if not isinstance(changes, dict):
            raise ValueError('behaviour parameters are a JSON object of name: number')
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f'unknown behaviour parameter(s): {", ".join(unknown)}; known: {", ".join(sorted(known))}')
        for name, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f'{name} must be a number')
            if (name.endswith('_p') and not 0 <= value <= 1) or ((name.endswith('_s') or name == 'friends_per_share')
                                                                 and value < 0):
                raise ValueError(f'{name} out of range: {value}')
        return cls(**{k: float(v) for k, v in changes.items()})

    def as_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class GroupView:
    """What a person sees on the group page before deciding to join."""
    price_fen: int
    list_price_fen: int
    size: int
    seats_left: int
    seconds_left: float
    duration_s: float


def join_probability(b: Behaviour, view: GroupView, via_friend: bool) -> float:
    """The chance this person takes a seat in this group, from price, size, seats and time left."""
    discount = max(0.0, 1 - view.price_fen / view.list_price_fen) if view.list_price_fen > 0 else 0.0
    logit = (b.join_base + b.join_discount_w * discount + b.join_size_w * (view.size - 2)
             + (b.join_last_seat_w if view.seats_left == 1 else 0.0)
             + (b.join_urgency_w if view.duration_s > 0 and view.seconds_left < view.duration_s / 5 else 0.0)
             + (b.join_friend_w if via_friend else 0.0))
    return 1 / (1 + math.exp(-logit))


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def arrival_times(rng: random.Random, people: int, window_s: float) -> list[float]:
    """A Poisson stream of `people` arrivals over `window_s` seconds (offsets from the start, ascending):
    exactly that many people, at the rate people / window_s."""
    return sorted(rng.uniform(0, window_s) for _ in range(people))


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; the means here are small (friends per share)."""
    if mean <= 0:
        return 0
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def delay(rng: random.Random, mean_s: float) -> float:
    return rng.expovariate(1 / mean_s) if mean_s > 0 else 0.0
