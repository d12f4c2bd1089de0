"""Courses and campaigns: list, create, edit what is safe while live, pause/resume/end, clone."""
from flask import flash, redirect, render_template, request, url_for

from groupbuy import catalog
from miniapp_api import schemas
from miniapp_api.presenters import campaign_json

from .forms import parse_form
from .session import console_blueprint, log_action, needs

bp = console_blueprint('console_campaigns', __name__)
MOVES = {'pause': 'paused', 'resume': 'active', 'end': 'ended', 'activate': 'active'}


@bp.get('/campaigns')
@needs('view')
def campaigns():
    status = request.args.get('status') or None
    return render_template('console/campaigns.html', campaigns=catalog.list_campaigns(status), status=status,
                           courses=catalog.list_courses(), moves=catalog.CAMPAIGN_MOVES)


@bp.post('/courses')
@needs('campaigns')
def create_course():
    body = parse_form(schemas.NewCourse, request.form)
    course = catalog.create_course(body.title, body.price_fen, body.cover_url)
    log_action('create_course', f'course:{course.id}', after={'title': course.title, 'price_fen': course.price_fen})
    flash(f'课程「{course.title}」已创建', 'ok')
    return redirect(url_for('.campaigns'))


@bp.get('/campaigns/new')
@needs('campaigns')
def new_campaign():
    return render_template('console/campaign_form.html', campaign=None, terms=request.args,
                           courses=catalog.list_courses(), editable=catalog.EDITABLE, variants=[])


@bp.post('/campaigns')
@needs('campaigns')
def create_campaign():
    body = parse_form(schemas.NewCampaign, request.form)
    campaign = catalog.create_campaign(**body.model_dump())
    log_action('create_campaign', f'campaign:{campaign.id}', after=campaign_json(catalog.get_campaign(campaign.id)))
    flash(f'活动 #{campaign.id} 已创建', 'ok')
    return redirect(url_for('.campaign', campaign_id=campaign.id))


@bp.get('/campaigns/<id:campaign_id>')
@needs('view')
def campaign(campaign_id: int):
    c = catalog.get_campaign(campaign_id)
    return render_template('console/campaign_form.html', campaign=c, terms=catalog.campaign_terms(c),
                           courses=[c.course], editable=catalog.EDITABLE if c.status == 'draft'
                           else catalog.LIVE_EDITABLE, moves=catalog.CAMPAIGN_MOVES[c.status],
                           variants=catalog.variants_of(c))


@bp.post('/campaigns/<id:campaign_id>')
@needs('campaigns')
def update_campaign(campaign_id: int):
    body = parse_form(schemas.NewCampaign, {**request.form, 'course_id': str(catalog.get_campaign(campaign_id).course_id)})
    sent = set(request.form)
    changes = {k: v for k, v in body.model_dump().items() if k in sent or k == 'new_users_only'}
    before, campaign = catalog.update_campaign(campaign_id, changes)
    log_action('update_campaign', f'campaign:{campaign_id}', before=before, after=catalog.campaign_terms(campaign))
    flash('已保存：新开的团按新规则，进行中的团不变', 'ok')
    return redirect(url_for('.campaign', campaign_id=campaign_id))


@bp.post('/campaigns/<id:campaign_id>/<any(pause, resume, end, activate):move>')
@needs('campaigns')
def move_campaign(campaign_id: int, move: str):
    before = catalog.get_campaign(campaign_id).status
    campaign = catalog.set_campaign_status(campaign_id, MOVES[move])
    log_action(f'{move}_campaign', f'campaign:{campaign_id}', before={'status': before}, after={'status': campaign.status})
    flash(f'活动 #{campaign_id}：{before} → {campaign.status}', 'ok')
    return redirect(url_for('.campaigns'))


@bp.post('/campaigns/<id:campaign_id>/clone')
@needs('campaigns')
def clone_campaign(campaign_id: int):
    copy = catalog.clone_campaign(campaign_id)
    log_action('clone_campaign', f'campaign:{copy.id}', before={'from': campaign_id}, after=campaign_json(copy))
    flash(f'已复制为草稿活动 #{copy.id}', 'ok')
    return redirect(url_for('.campaign', campaign_id=copy.id))


