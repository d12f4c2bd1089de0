"""Behaviour parameters fitted from what a real campaign recorded (`flask simulate --fit-campaign ID`): the
console's funnel (shares, taps on them, seats taken, seats paid) and its groups opened, read through
groupbuy/analytics.py, turned into the probabilities behaviour.py uses. What the log cannot tell apart stays
as given: friends reached per share and taps per friend show only as their product (taps per share), so
`friends_per_share` is kept and `click_p` fitted to it."""
import dataclasses

from groupbuy import analytics, catalog

from .behaviour import Behaviour, GroupView, join_probability, logit


def fit_campaign(campaign_id: int, base: Behaviour) -> tuple[Behaviour, dict]:
    """Raises groupbuy.errors.NotFound for an unknown campaign."""
    campaign = catalog.get_campaign(campaign_id)
    scope = analytics.Scope(campaign_id=campaign_id)
    steps = {row['step']: row['count'] for row in analytics.funnel(scope)}
    summary = analytics.summary(scope)
    return fitted(base, groups_opened=summary['groups_opened'], shared=steps['shared'], clicked=steps['clicked'],
                  joined=steps['joined'], paid=steps['paid'], size=campaign.group_size,
                  price_fen=campaign.group_price_fen, list_price_fen=campaign.course.price_fen)


def fitted(base: Behaviour, *, groups_opened: int, shared: int, clicked: int, joined: int, paid: int, size: int,
           price_fen: int, list_price_fen: int) -> tuple[Behaviour, dict]:
    """The parameters the counts support (the rest from `base`) and the basis: counts used, and which
    parameters had too little data to move."""
    changes, kept = {}, []
    if groups_opened:
        changes['share_p'] = min(1.0, shared / groups_opened)
    else:
        kept.append('share_p')
    if shared and base.friends_per_share > 0:
        changes['click_p'] = min(1.0, clicked / (shared * base.friends_per_share))
    else:
        kept.append('click_p')
    if clicked:
        # The intercept that makes a friend's tap on a fresh group of this campaign turn into a seat as often
        # as it did: the other terms at that view are the model's own.
        typical = GroupView(price_fen, list_price_fen, size, max(size - 1, 1), float('inf'), 0)
        others = logit(join_probability(dataclasses.replace(base, join_base=0.0), typical, via_friend=True))
        changes['join_base'] = logit(min(1.0, joined / clicked)) - others
    else:
        kept.append('join_base')
    if joined:
        changes['abandon_p'] = max(0.0, 1 - paid / joined)
    else:
        kept.append('abandon_p')
    basis = {'groups_opened': groups_opened, 'shared': shared, 'clicked': clicked, 'joined': joined, 'paid': paid,
             'size': size, 'price_fen': price_fen, 'list_price_fen': list_price_fen, 'not_enough_data': kept}
    return dataclasses.replace(base, **{k: round(v, 4) for k, v in changes.items()}), basis
