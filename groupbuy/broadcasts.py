"""Operator broadcasts: one message to a segment of users, sent at a set pace, never twice to
one person however often the broadcast is run (each recipient's outbox row is its dedupe)."""
import datetime as dt
import json
import logging

from . import errors
from .after_commit import AfterCommit
from .db import transaction
from .models import MAX_ID, Broadcast, Group, Notification, Seat, SubscriptionConsent, User
from .notifications import deliver_notification, DeliveryFailed, notify

log = logging.getLogger(__name__)
SEGMENTS = ('expiring_short', 'campaign', 'users')
MAX_EXPLICIT_USERS = 10_000


def create_broadcast(deps, segment: dict, message: str) -> Broadcast:
    """Check the segment, store the broadcast and queue its job. Raises InvalidInput."""
    _validate(segment)
    message = message.strip()
    if not message or len(message) > 500:
        raise errors.InvalidInput('message must be 1–500 characters', field='message')
    broadcast = Broadcast.create(segment=json.dumps(segment), message=message, created_at=deps.now())
    deps.enqueue('run_broadcast', broadcast.id)
    return broadcast


def get_broadcast(broadcast_id: int) -> Broadcast:
    broadcast = Broadcast.get_or_none(Broadcast.id == broadcast_id)
    if broadcast is None:
        raise errors.NotFound(f'broadcast {broadcast_id} not found')
    return broadcast


def rerun_broadcast(deps, broadcast_id: int) -> Broadcast:
    broadcast = get_broadcast(broadcast_id)
    deps.enqueue('run_broadcast', broadcast.id)
    return broadcast


def recipients(segment: dict, now: dt.datetime) -> list[int]:
    kind = segment['type']
    if kind == 'users':
        wanted = segment['user_ids']
        return [u.id for u in User.select(User.id).where(User.id.in_(wanted)).order_by(User.id)]
    groups = Group.select(Group.id)
    if kind == 'campaign':
        groups = groups.where(Group.campaign == segment['campaign_id'], Group.status != 'cancelled')
        statuses = ('paid',)
    else:  # expiring_short: members of forming groups whose deadline is within N seconds
        horizon = now + dt.timedelta(seconds=segment['within_s'])
        groups = groups.where(Group.status == 'forming', Group.deadline_at > now, Group.deadline_at <= horizon)
        statuses = ('paid',)
    rows = (Seat.select(Seat.user).distinct().where(Seat.group.in_(groups), Seat.status.in_(statuses))
            .order_by(Seat.user))
    return [r.user_id for r in rows]


def reach(deps, segment: dict, now: dt.datetime) -> dict[str, int]:
    """Before sending: how many people the segment holds and which channel would carry each one's push
    (the first that reaches them, as delivery picks it: a subscribe consent for the broadcast template,
    else an official-account follow, else a phone; else the in-app inbox only). Raises InvalidInput."""
    _validate(segment)
    people = recipients(segment, now)
    template = deps.messenger.subscribe_template('broadcast') if deps.messenger else None
    consenting = set()
    if template and people:
        consenting = {c.user_id for c in SubscriptionConsent.select(SubscriptionConsent.user).where(
            SubscriptionConsent.template_id == template, SubscriptionConsent.remaining > 0,
            SubscriptionConsent.user.in_(people))}
    counts = {'people': len(people), 'subscribe': 0, 'oa_template': 0, 'sms': 0, 'inbox': 0}
    if not people:
        return counts
    for u in User.select(User.id, User.openid, User.oa_openid, User.follows_oa, User.phone).where(User.id.in_(people)):
        channel = ('subscribe' if deps.messenger and u.openid and u.id in consenting else
                   'oa_template' if deps.messenger and u.oa_openid and u.follows_oa else
                   'sms' if deps.messenger and u.phone else 'inbox')
        counts[channel] += 1
    return counts


def list_broadcasts(limit: int = 50) -> list[Broadcast]:
    return list(Broadcast.select().order_by(Broadcast.id.desc()).limit(limit))


def run_broadcast(deps, broadcast_id: int, pace=lambda: None) -> Broadcast:
    """Send to every recipient not yet reached, calling `pace()` before each push (the job passes
    a rate limiter). Counts: sent (a push channel reached them), skipped (inbox only: no channel),
    failed. Safe to run again: people already messaged are not messaged twice."""
    broadcast = get_broadcast(broadcast_id)
    now = deps.now()
    Broadcast.update(status='running', last_error=None).where(Broadcast.id == broadcast.id).execute()
    try:
        fact = f'broadcast:{broadcast.id}'
        targets = recipients(json.loads(broadcast.segment), now)
        for user_id in targets:
            after = AfterCommit()  # delivery happens right here, at the pace, not via the queue
            with transaction():
                notify(deps, 'broadcast', {user_id: {'message': broadcast.message, 'page': 'pages/index/index'}},
                       fact, after)
            n = Notification.get(Notification.dedupe_key == f'{fact}:{user_id}')
            if n.status != 'pending':
                continue
            pace()
            try:
                deliver_notification(deps, n.id)
            except DeliveryFailed:
                pass  # stays pending; a re-run tries again, the count shows it meanwhile
    except Exception as exc:  # noqa: BLE001 — whatever it was, the broadcast must not say `running` for ever
        log.exception('broadcast %s crashed', broadcast.id)
        Broadcast.update(status='failed', finished_at=deps.now(), last_error=f'{type(exc).__name__}: {exc}'[:1000]
                         ).where(Broadcast.id == broadcast.id).execute()
        raise  # the job fails too (RQ keeps the traceback); `POST .../run` resumes where it stopped
    return _tally(broadcast.id, len(targets), deps.now())


def _tally(broadcast_id: int, total: int, now: dt.datetime) -> Broadcast:
    rows = Notification.select(Notification.status, Notification.channel).where(
        Notification.dedupe_key.startswith(f'broadcast:{broadcast_id}:'))
    sent = sum(1 for r in rows if r.status == 'sent' and r.channel != 'inbox')
    skipped = sum(1 for r in rows if r.status == 'sent' and r.channel == 'inbox')
    failed = sum(1 for r in rows if r.status in ('failed', 'pending'))
    Broadcast.update(status='done', total=total, sent=sent, skipped=skipped, failed=failed,
                     finished_at=now).where(Broadcast.id == broadcast_id).execute()
    return Broadcast.get_by_id(broadcast_id)


def _validate(segment: dict) -> None:
    kind = segment.get('type') if isinstance(segment, dict) else None
    if kind not in SEGMENTS:
        raise errors.InvalidInput(f'segment.type must be one of {", ".join(SEGMENTS)}', field='segment')
    if kind == 'expiring_short':
        within = segment.get('within_s')
        if not isinstance(within, int) or isinstance(within, bool) or not 0 < within <= 30 * 24 * 3600:
            raise errors.InvalidInput('segment.within_s must be 1–2592000 seconds', field='segment.within_s')
    elif kind == 'campaign':
        cid = segment.get('campaign_id')
        if not isinstance(cid, int) or isinstance(cid, bool) or not 0 < cid <= MAX_ID:
            raise errors.InvalidInput('segment.campaign_id must be a campaign id', field='segment.campaign_id')
    else:
        ids = segment.get('user_ids')
        if not isinstance(ids, list) or not 0 < len(ids) <= MAX_EXPLICIT_USERS or \
                not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids):
            raise errors.InvalidInput(f'segment.user_ids must be 1–{MAX_EXPLICIT_USERS} user ids',
                                      field='segment.user_ids')
