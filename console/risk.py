"""Risk control in the console: the review queue (approve → the group succeeds, reject → everyone refunded),
blocklists, a campaign's rule settings, and the recent decisions with their signals."""
import dataclasses
import json

from flask import flash, g, redirect, render_template, request, url_for

from groupbuy import catalog, errors
from groupbuy.risk import blocklist, decisions, review
from groupbuy.risk.rules import VERDICTS, RuleConfig
from miniapp_api.runtime import runtime as rt

from .forms import whole_number
from .session import console_blueprint, log_action, needs

bp = console_blueprint('console_risk', __name__)


@bp.get('/risk')
@needs('view')
def risk():
    verdict = request.args.get('decision') or None
    if verdict is not None and verdict not in VERDICTS:
        raise errors.InvalidInput(f'decision must be one of {", ".join(VERDICTS)}')
    checks = decisions.recent(verdict)
    campaign_id = whole_number(request.args.get('campaign_id'), 'campaign_id')
    campaign = catalog.get_campaign(campaign_id) if campaign_id else None
    return render_template('console/risk.html', held=review.queue(), blocks=blocklist.entries(rt().deps.now()),
                           checks=checks, verdict=verdict, verdicts=VERDICTS, kinds=blocklist.KINDS,
                           campaigns=catalog.list_campaigns(), campaign=campaign,
                           rules=json.dumps(json.loads(campaign.risk_rules), ensure_ascii=False, indent=1)
                           if campaign and campaign.risk_rules else '',
                           effective_json=json.dumps(dataclasses.asdict(decisions.rules_of(campaign) if campaign
                                                                               else RuleConfig()),
                                                     indent=1))


@bp.post('/risk/groups/<id:group_id>/<any(approve, reject):choice>')
@needs('risk')
def decide(group_id: int, choice: str):
    outcome = review.decide(rt().deps, group_id, approve=choice == 'approve')
    log_action(f'{choice}_review', f'group:{group_id}', before={'status': 'reviewing'}, after={'status': outcome})
    flash(f'团 #{group_id}：{"通过，已成团" if outcome == "succeeded" else "未通过，全部原路退款"}', 'ok')
    return redirect(url_for('.risk'))


@bp.post('/risk/blocks')
@needs('risk')
def add_block():
    form = request.form
    hours = whole_number(form.get('hours'), 'hours', highest=24 * 3650)  # empty: until removed
    entry = blocklist.add(form.get('kind', ''), form.get('value', ''), form.get('reason', ''), rt().deps.now(),
                          by=g.operator.name, hours=hours)
    log_action('block', f'{entry.kind}:{entry.value}', after={'reason': entry.reason, 'until': entry.until})
    flash(f'已拉黑 {entry.kind} {entry.value}', 'ok')
    return redirect(url_for('.risk'))


@bp.post('/risk/blocks/<id:entry_id>/remove')
@needs('risk')
def remove_block(entry_id: int):
    entry = blocklist.remove(entry_id)
    log_action('unblock', f'{entry.kind}:{entry.value}', before={'reason': entry.reason})
    flash(f'已解除 {entry.kind} {entry.value}', 'ok')
    return redirect(url_for('.risk'))


@bp.post('/risk/campaigns/<id:campaign_id>/rules')
@needs('risk')
def set_rules(campaign_id: int):
    before = catalog.get_campaign(campaign_id).risk_rules
    raw = request.form.get('rules', '').strip()
    try:
        json.loads(raw) if raw else None
    except ValueError:
        raise errors.InvalidInput('the rules are JSON: {"seat_cooldown_s": 3600, ...}') from None
    catalog.set_risk_rules(campaign_id, raw or None)
    log_action('set_risk_rules', f'campaign:{campaign_id}', before={'rules': before}, after={'rules': raw or None})
    flash(f'活动 #{campaign_id} 的风控规则已保存', 'ok')
    return redirect(url_for('.risk', campaign_id=campaign_id))
