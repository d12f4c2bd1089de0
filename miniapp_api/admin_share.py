"""Operator tools for offline sharing: a group's official-account QR code for printed posters.
A scan follows the account (or, for a follower, just scans) and the bot answers with the group."""
from flask import Blueprint, jsonify

from gateways.wechat_oa import create_scene_qrcode
from groupbuy import operators, sharing
from groupbuy.progress import progress_of

from .auth import admin_required
from .runtime import runtime

bp = Blueprint('admin_share', __name__, url_prefix='/admin/api')


@bp.before_request
@admin_required
def require_admin():
    return None


@bp.post('/groups/<share_code>/qrcode')
def group_qrcode(share_code: str):
    rt = runtime()
    progress = progress_of(share_code[:32])
    expire_s = sharing.qr_lifetime_s(progress, rt.deps.now())
    qr = create_scene_qrcode(rt.settings, rt.oa_client, progress.share_code, expire_s)
    operators.record_action(None, 'create_group_qrcode', f'group:{progress.group_id}', rt.deps.now(),
                            after={'expire_seconds': expire_s})
    return jsonify({'share_code': progress.share_code, **qr}), 201
