"""Sharing a group: the mini-program card's payload, the card picture, the poster, and counting
taps on what was shared. Every share carries its sharer (`from`, a signed ref) so we know who
brought whom: the signed-in caller, else a genuine `from` passed along."""
import hashlib

from flask import Blueprint, Response, jsonify, request

from groupbuy import referrals, sharing
from groupbuy.progress import progress_of
from posters import pictures

from . import schemas, share_schemas
from .auth import optional_user
from .runtime import runtime

bp = Blueprint('share', __name__)


def sharer_ref(rt, viewer, passed: str | None) -> str | None:
    if viewer is not None:
        return referrals.share_ref(rt.settings.secret_key, viewer.id)
    return passed if referrals.referrer_id(rt.settings.secret_key, passed) else None


def _visitor(viewer) -> str:
    """Who is asking, to count them once: the user, else a digest of their address and browser."""
    return str(viewer.id) if viewer else hashlib.sha256(
        f'{request.remote_addr}|{request.user_agent.string}'.encode()).hexdigest()[:16]


def _png(data: bytes) -> Response:
    return Response(data, mimetype='image/png', headers={'Cache-Control': 'public, max-age=60'})


@bp.get('/api/groups/<share_code>/share')
def share_payload(share_code: str):
    """What `onShareAppMessage` returns: {title, path, image_url}. Taking it counts as a share."""
    rt = runtime()
    progress, now = progress_of(share_code[:32]), rt.deps.now()
    viewer = optional_user()
    ref = sharer_ref(rt, viewer, request.args.get('from'))
    referrals.record_share(rt.deps, progress.group_id, progress.campaign_id,
                           viewer.id if viewer else referrals.existing_referrer(rt.settings.secret_key, ref),
                           _visitor(viewer))
    suffix = f'?from={ref}' if ref else ''
    base = rt.settings.public_base_url
    return jsonify({
        'title': sharing.share_title(progress, now),
        'path': sharing.miniapp_path(rt.settings.miniapp_group_page, progress.share_code, ref),
        'image_url': progress.cover_url or f'{base}/api/groups/{progress.share_code}/card.png',
        'h5_url': f'{base}/g/{progress.share_code}{suffix}',
        'poster_url': f'{base}/api/groups/{progress.share_code}/poster.png{suffix}',
        'share_code': progress.share_code, 'status': progress.status, 'seats_left': progress.seats_left})


@bp.get('/api/groups/<share_code>/poster.png')
def poster(share_code: str):
    rt = runtime()
    progress = progress_of(share_code[:32])
    ref = sharer_ref(rt, optional_user(), request.args.get('from'))
    return _png(pictures.group_poster(rt, progress, ref, rt.deps.now()))


@bp.get('/api/groups/<share_code>/card.png')
def card(share_code: str):
    rt = runtime()
    return _png(pictures.card_png(rt, progress_of(share_code[:32]), rt.deps.now()))


@bp.post('/api/groups/<share_code>/clicks')
def share_click(share_code: str):
    """The mini-program opened a shared card or poster: count it once per visitor."""
    body = schemas.parse(share_schemas.ShareClick)
    rt = runtime()
    progress = progress_of(share_code[:32])
    viewer = optional_user()
    counted = referrals.record_share_click(
        rt.deps, progress.group_id, progress.campaign_id, viewer.id if viewer else None,
        referrals.existing_referrer(rt.settings.secret_key, body.ref), body.channel, _visitor(viewer))
    return jsonify({'counted': counted}), 201 if counted else 200
