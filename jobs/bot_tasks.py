"""RQ jobs of the official-account bot: the slow WeChat calls kept out of its 5-second reply.
Each takes plain ids and strings and is harmless to run twice. They are adapter jobs: each registers
itself in the job catalogue (groupbuy/job_catalogue.py) and binds its own runtime (WeChat clients)."""
from bot.linking import link
from gateways.wechat_oa import send_miniprogram_card
from groupbuy import errors, sharing
from groupbuy.job_catalogue import adapter_job
from groupbuy.once import first_time, forget
from groupbuy.progress import progress_of
from posters import pictures

from .runtime import current

OUT_OF_REPLY_WINDOW = {'45015', '45047'}  # response out of time limit; too many replies in the window


@adapter_job('link_follower', queue='notifications')
def link_follower(oa_openid: str) -> int:
    """Ask WeChat who a follower is across our apps (unionid) and make them one user with their
    mini-program self (bot/linking.py). Returns the user id."""
    return link(current(), oa_openid).id


@adapter_job('send_group_card', queue='notifications')
def send_group_card(oa_openid: str, share_code: str, ref: str, delivery: str) -> str:
    """Send the group's mini-program card to a follower who scanned its QR code; once per scan
    (`delivery`), even if the job runs again. Returns 'sent', 'already_sent' or 'out_of_window' (the
    follower's 48-hour customer-message window has closed: 45015, final)."""
    rt = current()
    once_key = f'{delivery}:{share_code}'
    if not first_time(rt.deps, 'bot-card', once_key, 24 * 3600):
        return 'already_sent'
    try:
        now = rt.deps.now()
        progress = progress_of(share_code)
        media_id = pictures.card_thumb_media_id(rt, progress, now)
        send_miniprogram_card(rt.oa_client, oa_openid, sharing.share_title(progress, now),
                              rt.settings.wechat_app_id,
                              sharing.miniapp_path(rt.settings.miniapp_group_page, share_code, ref or None), media_id)
    except Exception as exc:
        if isinstance(exc, errors.WeChatUnavailable) and str(exc.details.get('errcode')) in OUT_OF_REPLY_WINDOW:
            return 'out_of_window'  # WeChat will not take it however often we retry
        forget(rt.deps, 'bot-card', once_key)  # not sent: a rerun may try again
        raise
    return 'sent'
