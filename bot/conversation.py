"""What the bot answers to each thing a follower says or does. Called once per message (retries
are filtered by `callback`); returns the passive text reply or None (nothing to say).

Slow or failure-prone work — asking WeChat for the follower's unionid, uploading a card picture,
sending the mini-program card — is queued as RQ jobs so the reply stays within 5 seconds; only
「我的拼团」 from a follower not yet tied to their mini-program self asks WeChat first (`linking`).
"""
from wechatpy import events, messages

from groupbuy import errors, identity, referrals, sharing
from groupbuy.progress import progress_of

from . import linking, texts

MY_GROUPS_WORDS = ('拼团', '我的拼团')
MENU = {'MY_GROUPS': 'my_groups', 'HELP': 'help'}


def answer(rt, message, delivery: str) -> str | None:
    """`delivery` names this push (MsgId, or sender+time+event): jobs use it to act once."""
    deps = rt.deps
    oa_openid = message.source
    if isinstance(message, events.UnsubscribeEvent):
        identity.set_following(deps, oa_openid, False)
        return None  # WeChat shows nothing to someone who just left
    if isinstance(message, (events.SubscribeScanEvent, events.SubscribeEvent)):
        user = identity.set_following(deps, oa_openid, True)
        linking.link_later(rt, user)
        scene = getattr(message, 'scene_id', None)
        return texts.WELCOME + '\n' + (_group_by_qr(rt, user, scene, delivery) if scene else texts.HELP)
    user = identity.set_following(deps, oa_openid, True)  # only followers can message the account
    if _asks_my_groups(message):
        return _my_groups(rt, user)
    linking.link_later(rt, user)  # e.g. they followed before Pinke went live
    if isinstance(message, events.ScanEvent):
        return _group_by_qr(rt, user, message.scene_id, delivery)
    if isinstance(message, (events.ClickEvent, messages.TextMessage)):
        return texts.HELP
    if isinstance(message, events.BaseEvent):
        return None  # menu links, location reports...: nothing to say
    return texts.HELP  # pictures, voice, stickers


def _asks_my_groups(message) -> bool:
    if isinstance(message, events.ClickEvent):
        return MENU.get(message.key) == 'my_groups'
    return isinstance(message, messages.TextMessage) and (message.content or '').strip() in MY_GROUPS_WORDS


def _group_by_qr(rt, user, scene: str, delivery: str) -> str:
    """A scan of a group's QR code: a line of progress now, the group's card by job."""
    share_code, _, ref = (scene or '').partition('.')
    try:
        progress = progress_of(share_code[:32])
    except errors.NotFound:
        return texts.GROUP_GONE
    secret = rt.settings.secret_key
    referrer = referrals.existing_referrer(secret, ref or None, user.id)
    referrals.record_share_click(rt.deps, progress.group_id, progress.campaign_id, user.id, referrer,
                                 'oa_qr', str(user.id))
    rt.deps.enqueue('send_group_card', user.oa_openid, progress.share_code, ref if referrer else '', delivery)
    return f'{texts.group_line(progress, rt.deps.now())}\n{texts.CARD_COMING}'


def _my_groups(rt, user) -> str:
    now = rt.deps.now()
    linked = linking.linked_now(rt, user)
    person = linked or user  # linked may be another row: the survivor of a merge
    live = sharing.live_groups_of(person.id)
    if not live:
        return texts.NO_GROUPS if linked else texts.LOOKING_UP
    ref = referrals.share_ref(rt.settings.secret_key, person.id)
    base = rt.settings.public_base_url
    return texts.my_groups([(p, f'{base}/g/{p.share_code}?from={ref}') for p in live], now)
