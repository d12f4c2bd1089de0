"""The review queue: groups risk control held before success (`outcomes.hold_for_review`), and an operator's
decision on each — approve (it succeeds: courses given) or reject (every payer refunded). Undecided by
`review_until`, the settlement job refunds it. Either way the money ends fulfilled or refunded."""
from dataclasses import dataclass

from .. import errors, outcomes, progress
from ..db import locked
from ..models import Campaign, Course, Group, RiskCheck
from ..progress import Progress
from ..transition import transition
from . import decisions as risk


@dataclass(frozen=True)
class InReview:
    progress: Progress
    group: Group
    reasons: tuple[str, ...]
    checks: list[RiskCheck]  # every decision on the group's opens, joins and payments, with their signals


def queue(limit: int = 100) -> list[InReview]:
    """Groups in review, the soonest to run out of time first."""
    rows = list(progress.query().where(Group.status == 'reviewing').order_by(Group.review_until).limit(limit))
    checks: dict[int, list[RiskCheck]] = {r.id: [] for r in rows}
    for c in RiskCheck.select().where(RiskCheck.group.in_(list(checks))).order_by(RiskCheck.id):
        checks[c.group_id].append(c)
    return [InReview(progress.from_row(row), row, _why(row), checks[row.id]) for row in rows]


def _why(group: Group) -> tuple[str, ...]:
    """The reasons it was held, as the rules see its fill now (the same facts: its seats no longer change)."""
    held = risk.review_before_success(group)
    return held.reasons if held else ()


def decide(deps, group_id: int, approve: bool) -> str:
    """Approve (succeeded) or reject (failed, every payer refunded) a group in review. Raises NotFound,
    InvalidTransition (not in review: decided already, or refunded when its time ran out)."""
    with transition(deps) as t:
        group = locked(Group.select(Group, Campaign, Course).join(Campaign).join(Course)
                       .where(Group.id == group_id), of=Group).first()
        if group is None:
            raise errors.NotFound(f'group {group_id} not found')
        if group.status != 'reviewing':
            raise errors.InvalidTransition(f'group {group_id} is {group.status}, not in review')
        if approve:
            outcomes.succeed_group(t, group)
            return 'succeeded'
        outcomes.fail_group(t, group)
        return 'failed'
