"""The operator's API: courses, campaigns and their A/B tests. Every call needs `Bearer <ADMIN_TOKEN>`;
every change is in the operator action log, by the actor `ADMIN_TOKEN`."""
from flask import jsonify

from groupbuy import catalog, experiments, operators

from . import schemas
from .auth import admin_blueprint
from .presenters import campaign_json, course_json, experiment_json
from .runtime import deps

bp = admin_blueprint('admin', __name__)


@bp.post('/courses')
def create_course():
    body = schemas.parse(schemas.NewCourse)
    course = catalog.create_course(body.title, body.price_fen, body.cover_url)
    _log('create_course', f'course:{course.id}', after=course_json(course))
    return jsonify({'course': course_json(course)}), 201


@bp.post('/campaigns')
def create_campaign():
    body = schemas.parse(schemas.NewCampaign)
    campaign = campaign_json(catalog.get_campaign(catalog.create_campaign(**body.model_dump(exclude_none=True)).id))
    _log('create_campaign', f'campaign:{campaign["id"]}', after=campaign)
    return jsonify({'campaign': campaign}), 201


@bp.patch('/campaigns/<id:campaign_id>')
def update_campaign(campaign_id: int):
    body = schemas.parse(schemas.CampaignStatus)
    before = catalog.get_campaign(campaign_id).status
    campaign = catalog.set_campaign_status(campaign_id, body.status)
    _log('set_campaign_status', f'campaign:{campaign_id}', before={'status': before}, after={'status': campaign.status})
    return jsonify({'campaign': campaign_json(campaign)})


@bp.get('/campaigns/<id:campaign_id>/experiment')
def show_experiment(campaign_id: int):
    return jsonify({'experiment': experiment_json(experiments.results(campaign_id))})


@bp.post('/campaigns/<id:campaign_id>/experiment/stop')
def stop_experiment(campaign_id: int):
    body = schemas.parse(schemas.StopExperiment)
    experiments.stop_test(deps(), campaign_id, body.winner)
    _log('stop_experiment', f'campaign:{campaign_id}', after={'winner': body.winner})
    return jsonify({'experiment': experiment_json(experiments.results(campaign_id))})


def _log(action: str, target: str, before: dict | None = None, after: dict | None = None) -> None:
    operators.record_action(None, action, target, deps().now(), before, after)
