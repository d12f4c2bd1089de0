"""What the server's database says once the crowd has gone: each group's end, seats paid against seats sold,
how late deadlines were settled, and the money audit. `flask simulate` runs on the server's machine with its
settings, so it asks the domain directly instead of an HTTP API made only for this."""
import json
import time

from groupbuy import analytics, catalog, records
from groupbuy.audit import audit
from groupbuy.models import Group
from groupbuy.progress import Progress

OPEN = ('pending', 'forming', 'reviewing')
# Simulated people are all accounts made seconds ago; the fresh-account fill rule would judge the simulator,
# not the product, so the simulator's own campaigns skip it (every other risk rule stays on).
SIMULATED_RISK_RULES = json.dumps({'fresh_fill_members': 1000, 'free_leader_fresh_members': 1000})


class System:
    def __init__(self, now):
        self.now = now  # the runtime's clock: deps.now

    def prepare_campaign(self, campaign_id: int) -> None:
        catalog.set_risk_rules(campaign_id, SIMULATED_RISK_RULES)

    def groups(self, campaign_id: int) -> list[Progress]:
        return records.find_groups(self.now(), campaign_id=campaign_id, limit=10_000_000)

    def wait_settled(self, campaign_ids: list[int], timeout_s: float) -> int:
        """Until no group of these campaigns is still open (or the time is up): how many still are."""
        end = time.monotonic() + timeout_s
        while True:
            still = sum(1 for cid in campaign_ids for p in self.groups(cid) if p.status in OPEN)
            if still == 0 or time.monotonic() > end:
                return still
            time.sleep(1)

    def deadline_lags_s(self, campaign_ids: list[int]) -> list[float]:
        """Deadline → settled, for groups the deadline decided (failed, or succeeded on the auto-complete
        ratio): closed_at is stamped by the settlement itself."""
        rows = (Group.select(Group.deadline_at, Group.closed_at)
                .where(Group.campaign.in_(campaign_ids), Group.closed_at.is_null(False),
                       Group.deadline_at.is_null(False), Group.closed_at >= Group.deadline_at,
                       Group.status.in_(('failed', 'succeeded'))).tuples())
        return [(closed - deadline).total_seconds() for deadline, closed in rows]

    def audit(self, timeout_s: float) -> list[str]:
        """`flask audit --grace 0` until it is clean (refunds of failed groups are still landing for a few
        seconds) or the time is up: the offenders then."""
        end = time.monotonic() + timeout_s
        while True:
            offenders = [str(o) for o in audit(self.now(), grace_s=0)]
            if not offenders or time.monotonic() > end:
                return offenders
            time.sleep(1)

    def nudge_effect(self, campaign_id: int) -> dict:
        """The console's pooled row: 成团率 of nudged groups against comparable groups never nudged."""
        return analytics.nudge_effect(analytics.Scope(campaign_id=campaign_id))[-1]


def oversold_seats(groups: list[Progress]) -> int:
    return sum(max(0, p.paid - p.size) for p in groups)
