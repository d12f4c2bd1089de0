"""Deciding on an open or a join, and keeping the decision with its signals (the `risk_check` log).

A refusal (block, challenge) is logged in a transaction of its own and raised; an allowed or reviewed attempt
is logged inside the caller's write transaction (`keep`), so a join that fails later leaves no trace and
the join still writes once. The messages people see never name the rule that refused them."""
import dataclasses
import datetime as dt
import functools

from .. import errors, prepared
from ..db import transaction
from ..models import Campaign, RiskCheck, User
from . import history
from .rules import Attempt, Decision, History, RuleConfig, decide, review_fill
from .signals import Signals


@dataclasses.dataclass(frozen=True)
class Verdict:
    """A decision and the log row to keep with it."""
    decision: Decision
    row: dict


def rules_of(campaign: Campaign) -> RuleConfig:
    return _rules_from(campaign.risk_rules)


@functools.lru_cache(maxsize=256)  # one frozen RuleConfig per settings text: its `version` hash is made once
def _rules_from(raw: str | None) -> RuleConfig:
    try:
        return RuleConfig.from_json(raw)
    except ValueError:  # stored by an older release or by hand: the defaults, rather than no rules at all
        return RuleConfig()


def assess(now: dt.datetime, action: str, user: User, campaign: Campaign, group_id: int | None,
           signals: Signals) -> Verdict:
    """The verdict on an attempt. Raises RiskRefused (block) or VerificationRequired (challenge), both logged."""
    rules = rules_of(campaign)
    attempt = Attempt(action=action, account_age_s=max(int((now - user.created_at).total_seconds()), 0),
                      has_phone=bool(user.phone), has_device=bool(signals.device), public_address=signals.public,
                      new_users_only=campaign.new_users_only)
    facts = history.before(now, action, user.id, group_id, signals, rules) if rules.enabled else History()
    decision = decide(attempt, facts, rules)
    row = dict(at=now, action=action, user=user.id, group=group_id, campaign=campaign.id, device=signals.device,
               ip=signals.ip, network=signals.network, user_agent=signals.user_agent,
               account_age_s=attempt.account_age_s, has_phone=attempt.has_phone, decision=decision.verdict, reasons=decision.code[:256],
               rules=rules.version)
    if decision.verdict in ('block', 'challenge'):
        with transaction():
            RiskCheck.insert(row).execute()
        raise errors.RiskRefused() if decision.verdict == 'block' else errors.VerificationRequired(verify='phone')
    return Verdict(decision, row)


def keep(verdict: Verdict, group_id: int | None = None) -> None:
    """Keep an allowed (or reviewed) attempt, inside the caller's transaction; `group_id` when the attempt
    created the group."""
    prepared.create(RiskCheck, **{**verdict.row, 'group': group_id or verdict.row['group']})  # every join: built once


def recent(verdict: str | None = None, limit: int = 200) -> list[RiskCheck]:
    """The latest decisions, newest first (the console's log)."""
    query = RiskCheck.select().order_by(RiskCheck.id.desc()).limit(limit)
    return list(query.where(RiskCheck.decision == verdict) if verdict else query)


@dataclasses.dataclass(frozen=True)
class Held:
    reasons: tuple[str, ...]
    review_s: int


def review_before_success(group) -> Held | None:
    """Whether a group about to succeed waits for an operator (`rules.review_fill` on how it was filled)."""
    rules = rules_of(group.campaign)
    fill = dataclasses.replace(history.fill_of(group.id, group.leader_id, rules), free_leader=group.leader_price_fen == 0)
    decision = review_fill(fill, rules)
    return Held(decision.reasons, rules.review_s) if decision.verdict == 'review' else None


def keep_payment(now: dt.datetime, user_id: int, group_id: int, campaign_id: int, payer: str) -> None:
    """A payment's payer (WeChat's openid for it), inside the payment's transaction: one payer paying several
    seats of one group sends the group to review when it fills (history.fill_of)."""
    RiskCheck.insert(at=now, action='pay', user=user_id, group=group_id, campaign=campaign_id, payer=payer[:64],
                     decision='allow').execute()
