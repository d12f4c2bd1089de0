"""Groups: find them (status, campaign, leader, "expiring within N minutes and still short"), and one
group's whole record: members, orders, refunds, messages sent, and its progress, live."""
from flask import render_template, request

from groupbuy import catalog, records
from miniapp_api.runtime import runtime as rt

from .forms import whole_number
from .session import console_blueprint, needs

bp = console_blueprint('console_groups', __name__)


@bp.get('/groups')
@needs('view')
def groups():
    args = request.args
    within = whole_number(args.get('expiring_min'), 'expiring_min', highest=30 * 24 * 60)
    found = records.find_groups(rt().deps.now(), status=args.get('status') or None,
                                campaign_id=whole_number(args.get('campaign_id'), 'campaign_id'),
                                leader=args.get('leader') or None,
                                expiring_within_s=within * 60 if within else None)
    return render_template('console/groups.html', groups=found, args=args, statuses=records.GROUP_STATUSES,
                           campaigns=catalog.list_campaigns(), now=rt().deps.now())


@bp.get('/groups/<id:group_id>')
@needs('view')
def group(group_id: int):
    return render_template('console/group.html', r=records.group_record(group_id), now=rt().deps.now())
