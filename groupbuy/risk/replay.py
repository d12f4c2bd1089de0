"""What a rule change would have done: run rules over the recorded decisions (`risk_check`) of a period and
compare with what was decided live. Each open or join is judged on the history as it stood just before it
(history.before with `before_id`), exactly as live, so the same rules give the same decisions."""
import datetime as dt
from collections import Counter
from dataclasses import dataclass

from ..models import Campaign, RiskCheck
from . import history
from .decisions import rules_of
from .rules import Attempt, RuleConfig, decide
from .signals import Signals


@dataclass(frozen=True)
class Change:
    check_id: int
    at: dt.datetime
    action: str
    user_id: int | None
    group_id: int | None
    live: str
    replayed: str
    reasons: str


@dataclass(frozen=True)
class Replay:
    checked: int
    live: Counter
    replayed: Counter
    changes: list[Change]


def replay(first: dt.datetime | None, last: dt.datetime | None, rules: RuleConfig | None = None) -> Replay:
    """Opens and joins logged between `first` and `last` (UTC, both optional) under `rules` (None: each
    campaign's own, as live)."""
    query = RiskCheck.select().where(RiskCheck.action.in_(history.OPEN_OR_JOIN), RiskCheck.user.is_null(False))
    if first:
        query = query.where(RiskCheck.at >= first)
    if last:
        query = query.where(RiskCheck.at <= last)
    campaigns = {c.id: c for c in Campaign.select()}
    live, replayed, changes, checked = Counter(), Counter(), [], 0
    for row in query.order_by(RiskCheck.id):
        campaign = campaigns.get(row.campaign_id)
        config = rules or (rules_of(campaign) if campaign else RuleConfig())
        signals = Signals(ip=row.ip, device=row.device, user_agent=row.user_agent)
        attempt = Attempt(action=row.action, account_age_s=row.account_age_s, has_phone=row.has_phone,
                          has_device=bool(row.device), public_address=signals.public,
                          new_users_only=bool(campaign and campaign.new_users_only))
        h = history.before(row.at, row.action, row.user_id, row.group_id if row.action == 'join' else None,
                           signals, config, before_id=row.id)
        decision = decide(attempt, h, config)
        checked += 1
        live[row.decision] += 1
        replayed[decision.verdict] += 1
        if decision.verdict != row.decision:
            changes.append(Change(row.id, row.at, row.action, row.user_id, row.group_id, row.decision,
                                  decision.verdict, decision.code))
    return Replay(checked, live, replayed, changes)
