"""Groups: find them (status, campaign, leader, "expiring within N minutes and still short"), and one
group's whole record: members, orders, refunds, messages sent, and its progress, live."""
import re

from flask import render_template, request

from groupbuy import catalog, errors, records
from miniapp_api.runtime import runtime as rt

from .session import console_blueprint, needs

bp = console_blueprint('console_groups', __name__)
DIGITS = re.compile(r'^[0-9]{1,18}$')  # ASCII digits only: str.isdigit takes '²', which int() refuses


@bp.get('/groups')
@needs('view')
def groups():
    args = request.args
    within = args.get('expiring_min', '').strip()
    if within and not (DIGITS.match(within) and 0 < int(within) <= 30 * 24 * 60):
        raise errors.InvalidInput('expiring_min: minutes, 1–43200')
    campaign = args.get('campaign_id', '').strip()
    if campaign and not DIGITS.match(campaign):
        raise errors.InvalidInput('campaign_id must be a campaign id')
    found = records.find_groups(rt().deps.now(), status=args.get('status') or None,
                                campaign_id=int(campaign) if campaign else None,
                                leader=args.get('leader') or None,
                                expiring_within_s=int(within) * 60 if within else None)
    return render_template('console/groups.html', groups=found, args=args, statuses=records.GROUP_STATUSES,
                           campaigns=catalog.list_campaigns(), now=rt().deps.now())


@bp.get('/groups/<id:group_id>')
@needs('view')
def group(group_id: int):
    return render_template('console/group.html', r=records.group_record(group_id), now=rt().deps.now())
