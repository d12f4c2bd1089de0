"""The risk rules as pure functions: what an attempt's signals and the history before it decide, under a
campaign's rule settings. No database here — groupbuy/risk/history.py gathers the facts, live and in replay
alike, so the same facts always give the same decision.

Verdicts, strongest first: block (refused, with a message that does not teach the rule), review (a group
filled this way waits for an operator before it succeeds), challenge (verify a phone first), allow."""
import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass, field

VERDICTS = ('allow', 'challenge', 'review', 'block')


@dataclass(frozen=True)
class RuleConfig:
    """Every threshold, with the defaults a campaign starts from (its `risk_rules` JSON changes some)."""
    enabled: bool = True
    seat_cooldown_s: int = 1800  # after an unpaid pay window, that group's seat is not taken again this soon
    abandon_limit: int = 3  # this many unpaid pay windows within abandon_window_s ...
    abandon_window_s: int = 86400
    abandon_block_s: int = 6 * 3600  # ... and joining is refused this long after the last one
    device_accounts_per_group: int = 1  # accounts one device may hold seats for in one group
    device_accounts_limit: int = 4  # distinct accounts one device acts for within device_window_s: review
    device_window_s: int = 86400
    velocity_window_s: int = 600
    device_attempts_limit: int = 20  # opens and joins from one device within velocity_window_s: block
    network_accounts_limit: int = 100  # distinct accounts from one public /24 (/64) in velocity_window_s: challenge
    payer_seats_per_group: int = 1  # seats one WeChat payer may pay in one group; more: review
    fresh_account_s: int = 600  # an account younger than this when it joins is fresh ...
    fresh_fill_members: int = 4  # ... and a group whose members (this many or more) are all fresh: review
    free_leader_fresh_members: int = 1  # a free leader's (团长免单) group whose members, this many or more, are all fresh
    review_s: int = 86400  # how long operators have to decide a group in review; then it is refunded

    @classmethod
    def from_json(cls, raw: str | None) -> 'RuleConfig':
        """The defaults with a campaign's (or a replay file's) changes; unknown names are refused."""
        changes = json.loads(raw) if raw else {}
        known = {f.name: f.type for f in dataclasses.fields(cls)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f'unknown risk rule settings: {", ".join(unknown)}; known: {", ".join(known)}')
        for name, value in changes.items():
            wanted = bool if known[name] in (bool, 'bool') else int
            if not isinstance(value, wanted) or (wanted is int and (isinstance(value, bool) or value < 0)):
                raise ValueError(f'{name} must be {"true or false" if wanted is bool else "a whole number ≥ 0"}')
        return cls(**changes)

    @functools.cached_property  # the settings never change (frozen): hashed once, not on every join
    def version(self) -> str:
        """A short hash of the settings, kept with each decision (which rules decided it)."""
        return hashlib.sha256(json.dumps(dataclasses.asdict(self), sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Attempt:
    """Someone opening a group or joining one."""
    action: str  # open | join
    account_age_s: int
    has_phone: bool
    has_device: bool
    public_address: bool = True  # False: loopback or private — we cannot see the client's own address
    new_users_only: bool = False


@dataclass(frozen=True)
class History:
    """What the log and the seats said just before the attempt (groupbuy/risk/history.py)."""
    blocklisted: tuple[str, ...] = ()  # which blocklist kinds match: user, device, network, payer
    released_here_ago_s: int | None = None  # this user's last unpaid pay window in this group, seconds ago
    abandoned: int = 0  # the user's unpaid pay windows within abandon_window_s
    last_abandoned_ago_s: int | None = None
    device_accounts_in_group: int = 0  # other accounts this device holds or held a seat for in this group
    device_accounts: int = 0  # other accounts this device acted for within device_window_s
    device_attempts: int = 0  # opens and joins from this device within velocity_window_s
    network_accounts: int = 0  # other accounts acting from this network within velocity_window_s
    device_paid_before: bool = False  # another account on this device has paid already


@dataclass(frozen=True)
class Decision:
    verdict: str
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def code(self) -> str:
        return ','.join(self.reasons)


def decide(attempt: Attempt, h: History, rules: RuleConfig) -> Decision:
    """The verdict on an open or a join, with every reason that applies (the strongest wins)."""
    if not rules.enabled:
        return Decision('allow')
    found: list[tuple[str, str]] = []
    for kind in h.blocklisted:
        found.append(('block', f'blocklist_{kind}'))
    if attempt.action == 'join':
        if h.released_here_ago_s is not None and h.released_here_ago_s < rules.seat_cooldown_s:
            found.append(('block', 'seat_cooldown'))
        if h.abandoned >= rules.abandon_limit and h.last_abandoned_ago_s is not None \
                and h.last_abandoned_ago_s < rules.abandon_block_s:
            found.append(('block', 'repeated_abandonment'))
        if attempt.has_device and h.device_accounts_in_group >= rules.device_accounts_per_group:
            found.append(('block', 'device_in_group'))
    if attempt.has_device and h.device_attempts >= rules.device_attempts_limit:
        found.append(('block', 'device_velocity'))
    if attempt.new_users_only and attempt.has_device and h.device_paid_before:
        found.append(('block', 'not_a_new_user'))
    if attempt.has_device and h.device_accounts >= rules.device_accounts_limit:
        found.append(('review', 'device_accounts'))
    if attempt.public_address and h.network_accounts >= rules.network_accounts_limit and not attempt.has_phone:
        found.append(('challenge', 'network_velocity'))
    if not found:
        return Decision('allow')
    strongest = max(VERDICTS.index(v) for v, _ in found)
    return Decision(VERDICTS[strongest], tuple(reason for _, reason in found))


@dataclass(frozen=True)
class Fill:
    """How a group was filled, when it is about to succeed (groupbuy/risk/history.py: fill_of)."""
    members: int  # paid members other than the leader
    fresh_members: int  # of them, accounts younger than fresh_account_s when they joined
    most_seats_one_payer: int
    flagged: tuple[str, ...] = ()  # reasons of 'review' decisions on its opens, joins and payments
    free_leader: bool = False  # the leader paid nothing (团长免单): fake friends would win a free course


def review_fill(fill: Fill, rules: RuleConfig) -> Decision:
    """Whether a group about to succeed waits for an operator first (its money held meanwhile)."""
    if not rules.enabled:
        return Decision('allow')
    reasons = list(fill.flagged)
    if fill.members >= rules.fresh_fill_members and fill.fresh_members == fill.members:
        reasons.append('fresh_fill')
    if fill.free_leader and fill.members >= rules.free_leader_fresh_members and fill.fresh_members == fill.members:
        reasons.append('free_leader_fresh_fill')
    if fill.most_seats_one_payer > rules.payer_seats_per_group:
        reasons.append('payer_in_group')
    return Decision('review', tuple(dict.fromkeys(reasons))) if reasons else Decision('allow')
