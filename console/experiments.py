"""A campaign's A/B test of group rules: per variant the groups opened, 成团率 with its Wilson interval, revenue
per opened group with its interval, the verdict in plain words, and stopping the test for a winner."""
from flask import flash, redirect, render_template, request, url_for

from groupbuy import catalog, experiments
from miniapp_api.runtime import runtime as rt

from .session import console_blueprint, log_action, needs

bp = console_blueprint('console_experiments', __name__)


@bp.get('/campaigns/<id:campaign_id>/experiment')
@needs('view')
def experiment(campaign_id: int):
    return render_template('console/experiment.html', campaign=catalog.get_campaign(campaign_id),
                           r=experiments.results(campaign_id))


@bp.post('/campaigns/<id:campaign_id>/experiment/stop')
@needs('experiments')
def stop(campaign_id: int):
    winner = request.form.get('winner', '')
    experiments.stop_test(rt().deps, campaign_id, winner)
    log_action('stop_experiment', f'campaign:{campaign_id}', after={'winner': winner})
    flash(f'测试已停止：之后新开的团都用方案 {winner}；进行中的团保持原规则', 'ok')
    return redirect(url_for('.experiment', campaign_id=campaign_id))
