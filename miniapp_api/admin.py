"""The operator's API: courses and campaigns. Every call needs `Bearer <ADMIN_TOKEN>`."""
from flask import jsonify

from groupbuy import catalog

from . import schemas
from .auth import admin_blueprint
from .presenters import campaign_json, course_json

bp = admin_blueprint('admin', __name__)


@bp.post('/courses')
def create_course():
    body = schemas.parse(schemas.NewCourse)
    return jsonify({'course': course_json(catalog.create_course(body.title, body.price_fen, body.cover_url))}), 201


@bp.post('/campaigns')
def create_campaign():
    body = schemas.parse(schemas.NewCampaign)
    campaign = catalog.create_campaign(**body.model_dump())
    return jsonify({'campaign': campaign_json(catalog.get_campaign(campaign.id))}), 201


@bp.patch('/campaigns/<id:campaign_id>')
def update_campaign(campaign_id: int):
    body = schemas.parse(schemas.CampaignStatus)
    return jsonify({'campaign': campaign_json(catalog.set_campaign_status(campaign_id, body.status))})
