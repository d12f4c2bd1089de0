"""The console's front page (what needs attention now) and the operator action log."""
from flask import render_template, request

from groupbuy import operators, records, refunds
from miniapp_api.runtime import runtime as rt

from .session import console_blueprint, needs

bp = console_blueprint('console_overview', __name__)


@bp.get('/')
@needs('view')
def overview():
    now = rt().deps.now()
    return render_template('console/overview.html', now=now,
                           expiring=records.find_groups(now, expiring_within_s=3600, limit=20),
                           forming=records.count_groups('forming'), in_review=records.count_groups('reviewing'),
                           attention=refunds.list_refunds('failed', limit=20))


@bp.get('/actions')
@needs('view')
def actions():
    target = request.args.get('target') or None
    return render_template('console/actions.html', actions=operators.recent_actions(200, target), target=target)
