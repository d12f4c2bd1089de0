"""`/c/<campaign_id>`: the campaign's H5 page — open your own group, or join one still short (凑团)."""
from flask import Blueprint, render_template

from groupbuy import catalog, errors, tiers, wording
from groupbuy.clock import iso
from groupbuy.open_groups import open_groups

from .runtime import runtime

bp = Blueprint('h5_campaign', __name__, template_folder='templates')


@bp.get('/c/<id:campaign_id>')
def campaign_page(campaign_id: int):
    rt = runtime()
    now = rt.deps.now()
    try:
        campaign = catalog.get_campaign(campaign_id)
    except errors.NotFound:
        return render_template('h5_message.html', text='找不到这个拼团活动。', link=None), 404
    listed = [dict(g, time_left=wording.time_left(g['seconds_left'])) for g in open_groups(campaign_id, now)]
    selling = True
    try:
        catalog.ensure_selling(campaign, now)
    except errors.CampaignNotActive:
        selling = False
    settings = rt.settings
    live = {'page': 'campaign', 'campaignId': campaign.id, 'apiBase': '', 'token': None, 'server_time': iso(now),
            'sandbox': settings.wechat_pay_base_url.rstrip('/') if settings.uses_sandbox else None}
    prices = [v.group_price_fen for v in catalog.variants_of(campaign)] or [campaign.group_price_fen]
    return render_template('campaign_page.html', campaign=campaign, groups=listed, selling=selling, live=live,
                           tiers=tiers.parse(campaign.tiers), free_leader=campaign.leader_price_fen == 0,
                           courses=catalog.courses_of(campaign),
                           price=wording.yuan(min(prices)), price_varies=len(set(prices)) > 1,  # an A/B test
                           list_price=wording.yuan(campaign.course.price_fen))
