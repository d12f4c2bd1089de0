"""The notification outbox (DESIGN.md §2): one row per fact and recipient, written in the same
transaction as the fact, delivered after commit by a job, retried, never sent twice.

Every notification shows in the user's in-app inbox. On top, one push channel is tried in order:
a mini-program subscribe message (only while the user has a one-time consent left for its
template: WeChat's rule), then an official-account template message (users who follow the
account), then SMS (users with a phone number). A channel that cannot reach the user passes to
the next; a channel that fails for a passing reason is retried with backoff.
"""
import datetime as dt
import json

from . import errors, rules
from .after_commit import AfterCommit
from .clock import to_ms
from .db import transaction
from .models import Notification, SmsMessage, SubscriptionConsent, User
from .ports import MessengerError
from .progress import progress_of_group


class DeliveryFailed(Exception):
    """A push failed for a passing reason; the job runner retries."""


def notify(deps, kind: str, recipients: dict[int, dict], fact: str, after: AfterCommit,
           not_before: dt.datetime | None = None) -> None:
    """Queue `kind` for each recipient (user id → facts) inside the caller's transaction.
    `fact` names what happened (e.g. 'group_succeeded:42'); with the user it is the dedupe key."""
    now = deps.now()
    rows = [{'user': user_id, 'kind': kind, 'payload': json.dumps(params, ensure_ascii=False),
             'dedupe_key': f'{fact}:{user_id}'[:128], 'created_at': now, 'not_before': not_before}
            for user_id, params in recipients.items()]
    if rows:
        Notification.insert_many(rows).on_conflict_ignore().execute()
        after.add(dispatch, deps, [r['dedupe_key'] for r in rows])


def dispatch(deps, dedupe_keys: list[str]) -> None:
    """Enqueue delivery of pending notifications now, or put them in the deadline index for later."""
    now = deps.now()
    due = []
    for n in Notification.select(Notification.id, Notification.not_before).where(
            Notification.dedupe_key.in_(dedupe_keys), Notification.status == 'pending'):
        if n.not_before and n.not_before > now:
            deps.deadlines.schedule('notify', n.id, to_ms(n.not_before))
        else:
            due.append(('deliver_notification', (n.id,)))
    deps.enqueue_many(due)


def deliver_notification(deps, notification_id: int) -> str:
    """Push one notification through the first channel that reaches its user. Returns the channel
    ('subscribe', 'oa_template', 'sms', 'inbox' when none reaches them), 'not_yet', 'dropped'
    (a nudge whose group no longer needs it) or 'noop'. Raises DeliveryFailed to be retried."""
    n = Notification.get_or_none(Notification.id == notification_id)
    if n is None or n.status != 'pending':
        return 'noop'
    now = deps.now()
    if n.not_before and n.not_before > now:
        return 'not_yet'
    params = json.loads(n.payload)
    if n.kind == 'deadline_nudge' and not _nudge_still_useful(params.get('group_id'), now):
        _finish(n, 'dropped', 'inbox', now)
        return 'dropped'
    user = User.get_by_id(n.user_id)
    try:
        channel = _push(deps, user, n.kind, params)
    except MessengerError as exc:
        attempts = n.attempts + 1
        final = attempts >= deps.notify_max_attempts
        Notification.update(attempts=attempts, last_error=f'{exc.code}: {exc}'[:1000],
                            status='failed' if final else 'pending').where(
            Notification.id == n.id, Notification.status == 'pending').execute()
        if final:
            return 'failed'
        raise DeliveryFailed(str(exc)) from exc
    _finish(n, 'sent', channel, now)
    return channel


def _finish(n: Notification, status: str, channel: str, now: dt.datetime) -> None:
    Notification.update(status=status, channel=channel, sent_at=now, attempts=n.attempts + 1).where(
        Notification.id == n.id, Notification.status == 'pending').execute()


def _push(deps, user: User, kind: str, params: dict) -> str:
    messenger = deps.messenger
    if messenger is None:
        return 'inbox'
    template = messenger.subscribe_template(kind)
    if template and user.openid and _take_consent(user.id, template, deps.now()):
        try:
            messenger.send_subscribe(user.openid, kind, params)
            return 'subscribe'
        except MessengerError as exc:
            _give_back_consent(user.id, template)
            if not exc.refused:
                raise
    oa_openid = user.oa_openid if user.follows_oa else None
    if oa_openid:
        try:
            messenger.send_oa_template(oa_openid, kind, params)
            return 'oa_template'
        except MessengerError as exc:
            if not exc.refused:
                raise
    if user.phone:
        messenger.send_sms(user.phone, kind, params)
        return 'sms'
    return 'inbox'


def _take_consent(user_id: int, template_id: str, now: dt.datetime) -> bool:
    return bool(SubscriptionConsent.update(remaining=SubscriptionConsent.remaining - 1, updated_at=now)
                .where(SubscriptionConsent.user == user_id, SubscriptionConsent.template_id == template_id,
                       SubscriptionConsent.remaining > 0).execute())


def _give_back_consent(user_id: int, template_id: str) -> None:
    SubscriptionConsent.update(remaining=SubscriptionConsent.remaining + 1).where(
        SubscriptionConsent.user == user_id, SubscriptionConsent.template_id == template_id).execute()


def _nudge_still_useful(group_id, now: dt.datetime) -> bool:
    try:
        return progress_of_group(group_id).joinable(now)
    except errors.NotFound:
        return False


def record_consents(deps, user: User, template_ids: list[str]) -> dict[str, int]:
    """The user accepted these templates in wx.requestSubscribeMessage: one more message each.
    Returns the consents now held per template."""
    if not template_ids or len(template_ids) > 20 or not all(isinstance(t, str) and 0 < len(t) <= 64
                                                            for t in template_ids):
        raise errors.InvalidInput('template_ids must be 1–20 template ids')
    now = deps.now()
    with transaction():
        for template_id in template_ids:
            changed = (SubscriptionConsent.update(remaining=SubscriptionConsent.remaining + 1, updated_at=now)
                       .where(SubscriptionConsent.user == user.id,
                              SubscriptionConsent.template_id == template_id).execute())
            if not changed:
                SubscriptionConsent.create(user=user.id, template_id=template_id, remaining=1, updated_at=now)
    return {c.template_id: c.remaining for c in SubscriptionConsent.select().where(
        SubscriptionConsent.user == user.id, SubscriptionConsent.template_id.in_(template_ids))}


def inbox(user: User, limit: int = 50, before_id: int | None = None) -> list[Notification]:
    query = Notification.select().where(Notification.user == user.id)
    if before_id:
        query = query.where(Notification.id < before_id)
    return list(query.order_by(Notification.id.desc()).limit(limit))


def unread_count(user: User) -> int:
    return Notification.select().where(Notification.user == user.id, Notification.read_at.is_null()).count()


def mark_read(deps, user: User, notification_id: int) -> Notification:
    """Raises NotFound (also for someone else's message: ids are not secrets, contents are)."""
    n = Notification.get_or_none(Notification.id == notification_id, Notification.user == user.id)
    if n is None:
        raise errors.NotFound('no such message')
    if n.read_at is None:
        n.read_at = deps.now()
        Notification.update(read_at=n.read_at).where(Notification.id == n.id,
                                                     Notification.read_at.is_null()).execute()
    return n


def quiet_until(deps, now: dt.datetime, deadline: dt.datetime | None) -> dt.datetime | None:
    """When this process's quiet hours hold a push back (`rules.quiet_until`)."""
    return rules.quiet_until(now, deadline, deps.quiet_hours, deps.quiet_tz)


def keep_sms(phone: str, text: str, at: dt.datetime) -> None:
    """What the default SMS provider would have sent (gateways/sms.py): kept, so a deployment without an
    SMS contract still shows it and tests can read it."""
    SmsMessage.create(phone=phone, text=text, created_at=at)
