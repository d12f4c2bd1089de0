"""Courses and campaigns: list, create, edit what is safe while live, pause/resume/end, clone."""
import re

from flask import flash, redirect, render_template, request, url_for

from groupbuy import catalog, errors, refunds, rewards, tiers
from groupbuy.wording import yuan
from miniapp_api import schemas
from miniapp_api.presenters import campaign_json

from .forms import parse_form
from .session import console_blueprint, log_action, needs

bp = console_blueprint('console_campaigns', __name__)
MOVES = {'pause': 'paused', 'resume': 'active', 'end': 'ended', 'activate': 'active'}
TIER_ROWS = tiers.MAX_TIERS  # the form's tier rows; empty ones are skipped
REWARD_FIELDS = {'coupon': ('amount_fen', 'min_spend_fen', 'valid_days'), 'points': ('points',)}
_DIGITS = re.compile(r'^[0-9]{1,18}$')


def growth_of(campaign) -> dict:
    """What the pages show of a campaign's growth levers (issue 12): its tiers, a free leader, the referral reward,
    and the courses of a cross-course campaign (one query, only for a cross-course one)."""
    cross, steps, reward = catalog.is_cross_course(campaign), tiers.parse(campaign.tiers), rewards.terms_of(campaign)
    return {'tiers': steps, 'tiers_text': ' / '.join(f'{t.size}人 ¥{yuan(t.price_fen)}' for t in steps),
            'free_leader': campaign.leader_price_fen == 0, 'reward': reward, 'reward_text': reward_text(reward),
            'courses': catalog.courses_of(campaign) if cross else [],
            'band': (campaign.band_low_fen, campaign.band_high_fen) if cross else None}


def reward_text(reward: dict | None) -> str:
    """A referral reward in a line: 每带一位新人：¥10 券（满 ¥50 可用，30 天有效） / 100 积分."""
    if not reward:
        return ''
    if reward['kind'] == 'coupon':
        return (f'每带一位新人：¥{yuan(reward["amount_fen"])} 券（满 ¥{yuan(reward["min_spend_fen"])} 可用，'
                f'{reward["valid_days"]} 天有效）')
    return f'每带一位新人：{reward["points"]} 积分'


@bp.get('/campaigns')
@needs('view')
def campaigns():
    status = request.args.get('status') or None
    listed = catalog.list_campaigns(status)
    return render_template('console/campaigns.html', campaigns=listed, status=status,
                           growth={c.id: growth_of(c) for c in listed},
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
    return _new_form(request.args)


def _new_form(terms, error: errors.DomainError | None = None, status: int = 200):
    """The new-campaign form, filled with `terms` (a query string, or the form sent back with what was wrong)."""
    rows = list(zip(terms.getlist('tier_size'), terms.getlist('tier_price_fen')))[:TIER_ROWS]
    rows += [('', '')] * (TIER_ROWS - len(rows))
    return render_template('console/campaign_form.html', campaign=None, terms=terms, tier_rows=rows,
                           picked=terms.getlist('extra_course_ids'), error=error, courses=catalog.list_courses(),
                           editable=catalog.EDITABLE, variants=[]), status


@bp.post('/campaigns')
@needs('campaigns')
def create_campaign():
    try:
        body = parse_form(schemas.NewCampaign, _campaign_fields(request.form))
        campaign = catalog.create_campaign(**body.model_dump(exclude_none=True))
    except (errors.InvalidInput, errors.NotFound) as exc:  # the form again, filled in, with what was wrong
        return _new_form(request.form, exc, 400)
    log_action('create_campaign', f'campaign:{campaign.id}', after=campaign_json(catalog.get_campaign(campaign.id)))
    flash(f'活动 #{campaign.id} 已创建', 'ok')
    return redirect(url_for('.campaign', campaign_id=campaign.id))


@bp.get('/campaigns/<id:campaign_id>')
@needs('view')
def campaign(campaign_id: int):
    c = catalog.get_campaign(campaign_id)
    growth = growth_of(c)
    editable = catalog.EDITABLE if c.status == 'draft' else catalog.LIVE_EDITABLE
    if growth['tiers']:  # a tiered campaign's size and price are its tiers' (changing one alone would break them)
        editable = tuple(name for name in editable if name not in ('group_size', 'group_price_fen'))
    results = {'rewards': rewards.campaign_counts(c.id) if growth['reward'] else None,
               'tier_refunds': refunds.tier_differences_of(c.id) if growth['tiers'] else None}
    return render_template('console/campaign_form.html', campaign=c, terms=catalog.campaign_terms(c),
                           courses=[c.course], editable=editable, moves=catalog.CAMPAIGN_MOVES[c.status],
                           variants=catalog.variants_of(c), growth=growth, results=results)


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


def _campaign_fields(form) -> dict:
    """The new-campaign form as `schemas.NewCampaign` takes it: the plain fields as sent, and the growth levers
    built from their inputs — tier rows (size + price in fen; a row left empty is skipped), the reward's kind and
    its numbers, the extra courses picked. Raises InvalidInput for a half-filled tier row."""
    fields = {name: form.get(name) for name in form if name not in ('extra_course_ids', 'tier_size',
                                                                     'tier_price_fen') and not name.startswith('reward_')}
    rows = []
    for i, (size, price) in enumerate(zip(form.getlist('tier_size'), form.getlist('tier_price_fen'))):
        size, price = size.strip(), price.strip()
        if size or price:
            if not (size and price):
                raise errors.InvalidInput(f'tiers.{len(rows)}: a tier row needs both its size and its price '
                                          f'(row {i + 1})', field='tiers')
            rows.append({'size': _number(size), 'price_fen': _number(price)})
    fields['tiers'] = rows
    kind = (form.get('reward_kind') or '').strip()
    if kind:
        fields['reward'] = {'kind': kind, **{name: _number(form.get(f'reward_{name}', '').strip())
                                             for name in REWARD_FIELDS.get(kind, ())
                                             if form.get(f'reward_{name}', '').strip()}}
    fields['extra_course_ids'] = [_number(x.strip()) for x in form.getlist('extra_course_ids') if x.strip()]
    return fields


def _number(raw: str) -> int | str:
    """A whole number as an int; anything else as sent, for the schema to name the field and what it expected."""
    return int(raw) if _DIGITS.match(raw) else raw
