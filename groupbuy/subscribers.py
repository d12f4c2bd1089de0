"""Who reacts to each domain event — the one table of side effects.

`during` handlers run inside the transition's transaction (the analytics log, the notification outbox:
they commit or roll back with the change). `after` handlers run once it has committed (the seat ledger,
the deadline index, live events, jobs): each can be lost to a crash, and the sweeper redoes whatever a
lost one left undone. The operator console, risk control and rewards add their lines here.
docs/ARCHITECTURE.md prints this table; tests/unit/test_subscribers.py keeps the two equal."""
from dataclasses import dataclass, field

from . import live_events, members, notifications, nudge_schedule, rewards
from .clock import to_ms
from .domain_events import (ExperimentStopped, FollowChanged, GroupCancelled, GroupFailed, GroupFormed,
                            GroupHeldForReview, GroupOpened, GroupShared, GroupSucceeded, MemberJoined, NudgeSent,
                            RefundNeedsAttention, RefundRetried, RefundSucceeded, RefundsStarted, ReservationsDropped,
                            SeatPaid, SeatReleased, SeatReserved, ShareClicked, UserRegistered, UsersMerged)
from .domain_events import (QuestionAnswered, QuestionAsked, QuestionPinned, RoomAttended, RoomClosed,  # rooms
                            RoomItemHidden, RoomOpened, RoomPosted, RoomReminderSent, RoomScheduled, RoomSubscribed,
                            UserMuted)
from .event_log import record
from .rooms import reactions as rooms
from .rooms.shown import post_json, question_json, room_json
from .models import LIVE_GROUP
from .facts import group_facts
from .seat_ledger import LedgerSeat
from .wording import yuan

REFUND_TIMING = '原路退回，1–3 个工作日到账'


class Logged:
    """One analytics row per event (or one per dict, when `fields` gives a list)."""

    def __init__(self, kind: str, fields):
        self.kind, self.fields, self.__name__ = kind, fields, f'log {kind}'

    def __call__(self, t, event) -> None:
        rows = self.fields(event)
        for row in rows if isinstance(rows, list) else [rows]:
            record(self.kind, at=t.now, **row)


class Live:
    """Publish the event on the group's live channel. A closed group's progress is final: the event's own
    snapshot is published. An open group's is read after commit (`Transition.committed_progress`), so a
    join or payment committed meanwhile is never shown undone."""

    def __init__(self, kind: str, extra=None):
        self.kind, self.extra, self.__name__ = kind, extra, f'live {kind}'

    def __call__(self, t, event) -> None:
        p = getattr(event, 'progress', None)
        if p is None or p.status in LIVE_GROUP:
            p = t.committed_progress(event.group.id)
        live_events.announce(t.deps, p, self.kind, **(self.extra(event) if self.extra else {}))


def _in_group(e, **props) -> dict:
    return dict(group=e.group.id, campaign=e.group.campaign_id, **props)


# --- the seat ledger and the deadline index (after commit) ---

def hold_leader_seat(t, e: GroupOpened) -> None:
    t.deps.ledger.restore(e.group.id, e.group.size, 'pending', 0,
                          [LedgerSeat(e.seat.user_id, False, to_ms(e.seat.reserved_until))])


def schedule_release(t, e) -> None:
    t.deps.deadlines.schedule('release', e.seat.id, to_ms(e.seat.reserved_until))


def cancel_release(t, e: SeatPaid) -> None:
    t.deps.deadlines.cancel('release', e.seat.id)


def mark_seat_paid(t, e: SeatPaid) -> None:
    t.deps.ledger.mark_paid(e.group.id, e.seat.user_id)


def open_for_joining(t, e: GroupFormed) -> None:
    t.deps.ledger.set_state(e.group.id, 'open', to_ms(e.group.deadline_at))


def schedule_settlement(t, e: GroupFormed) -> None:
    t.deps.deadlines.schedule('settle', e.group.id, to_ms(e.group.deadline_at))


def schedule_nudges(t, e: GroupFormed) -> None:
    if e.progress.seats_left:
        due = nudge_schedule.nudges_due(e.group, t.now)
        if due:
            t.deps.deadlines.schedule_many(due)


def free_seat(t, e) -> None:
    t.deps.ledger.release(e.group.id, e.seat.user_id, to_ms(e.seat.reserved_until))


def close_payment_later(t, e) -> None:
    if e.close_later:  # WeChat did not answer when the seat went: close its payment by job
        t.deps.enqueue('close_payment', e.seat.order_id)


def schedule_review_deadline(t, e: GroupHeldForReview) -> None:
    """Undecided by `review_until`, the group is refunded by its settlement job."""
    t.deps.deadlines.schedule('settle', e.group.id, to_ms(e.group.review_until))


def forget_group(t, e) -> None:
    """A closed group needs no seats and no deadline in Redis."""
    t.deps.ledger.forget(e.group.id)
    t.deps.deadlines.cancel('settle', e.group.id)


def close_dropped_payments(t, e: ReservationsDropped) -> None:
    t.deps.enqueue_many([('close_payment', (s.order.id,)) for s in e.seats])


def cancel_dropped_releases(t, e: ReservationsDropped) -> None:
    for seat in e.seats:
        t.deps.deadlines.cancel('release', seat.id)


def start_refund_jobs(t, e: RefundsStarted) -> None:
    t.deps.enqueue_many([('refund_order', (o.id,)) for o in e.orders])


def retry_refund_job(t, e: RefundRetried) -> None:
    t.deps.enqueue('refund_order', e.refund.order_id)


def move_ledger_entries(t, e: UsersMerged) -> None:
    for group_id in e.live_group_ids:
        t.deps.ledger.move_user(group_id, e.dropped_id, e.kept_id)


# --- referral rewards and coupons (during: the grant, hold and return commit with the change) ---

def grant_referral_rewards(t, e: GroupSucceeded) -> None:
    """Only on success: a group held for review earns nothing until an operator approves it."""
    rewards.grant_for(t.now, e.group, e.fulfilled)


def settle_rewards(t, e: RefundsStarted) -> None:
    rewards.after_refunds(t.now, e.orders, e.reason)


def release_coupons(t, e) -> None:
    """Orders that will not be paid let go of the coupons they held."""
    seats = e.seats if isinstance(e, ReservationsDropped) else [e.seat]
    rewards.release(t.now, [s.order_id for s in seats])


# --- the notification outbox (during: rows commit with the change) ---

def tell_leader_group_opened(t, e: GroupFormed) -> None:
    if e.progress.seats_left:
        notifications.notify(t.deps, 'group_opened', {e.seat.user_id: group_facts(e.progress, t.now)},
                             f'group_opened:{e.group.id}', t.after)


def tell_members_someone_joined(t, e: MemberJoined) -> None:
    if not e.progress.seats_left:
        return  # the last seat: everyone hears group_succeeded instead
    facts = dict(group_facts(e.progress, t.now), joiner=e.member['nickname'])
    others = [u for u in members.paid_member_ids(e.group.id) if u != e.seat.user_id]
    notifications.notify(t.deps, 'member_joined', {u: facts for u in others}, f'member_joined:{e.seat.id}', t.after)


def tell_payers_succeeded(t, e: GroupSucceeded) -> None:
    facts = group_facts(e.progress, t.now)
    notifications.notify(t.deps, 'group_succeeded', {o.user_id: facts for o in e.fulfilled},
                         f'group_succeeded:{e.group.id}', t.after)


def tell_payers_refunded(t, e: GroupFailed) -> None:
    facts = group_facts(e.progress, t.now)
    notifications.notify(t.deps, 'group_failed', {o.user_id: dict(facts, amount=yuan(o.amount_fen))
                                                  for o in e.refunded}, f'group_failed:{e.group.id}', t.after)


def nudge_members(t, e: NudgeSent) -> None:
    facts = group_facts(e.progress, t.now)
    notifications.notify(t.deps, 'deadline_nudge', {u: facts for u in e.recipients},
                         nudge_schedule.nudge_fact(e.progress.group_id, e.offset_s), t.after, not_before=e.not_before)


@dataclass(frozen=True)
class Handlers:
    during: list = field(default_factory=list)
    after: list = field(default_factory=list)


HANDLERS: dict[type, Handlers] = {
    GroupOpened: Handlers(
        during=[Logged('group_opened', lambda e: _in_group(e, user=e.seat.user_id))],
        after=[hold_leader_seat, schedule_release]),
    SeatReserved: Handlers(
        during=[Logged('seat_reserved', lambda e: _in_group(e, user=e.seat.user_id))],
        after=[schedule_release, Live('seat_reserved')]),
    SeatPaid: Handlers(
        during=[Logged('order_paid', lambda e: _in_group(e, user=e.seat.user_id, amount_fen=e.order.amount_fen,
                                                          role=e.seat.role))],
        after=[cancel_release, mark_seat_paid]),
    GroupFormed: Handlers(
        during=[tell_leader_group_opened],
        after=[open_for_joining, schedule_settlement, schedule_nudges,
               Live('group_formed', lambda e: {'member': e.member})]),
    MemberJoined: Handlers(
        during=[tell_members_someone_joined],
        after=[Live('member_joined', lambda e: {'member': e.member})]),
    SeatReleased: Handlers(
        during=[Logged('seat_released', lambda e: _in_group(e, user=e.seat.user_id)), release_coupons],
        after=[close_payment_later, free_seat, Live('seat_released')]),
    GroupCancelled: Handlers(
        during=[Logged('group_cancelled', lambda e: _in_group(e)), release_coupons],
        after=[close_payment_later, free_seat, forget_group, Live('group_cancelled')]),
    ReservationsDropped: Handlers(
        during=[release_coupons],
        after=[close_dropped_payments, cancel_dropped_releases]),
    GroupSucceeded: Handlers(
        during=[tell_payers_succeeded, grant_referral_rewards,
                Logged('group_succeeded', lambda e: _in_group(
                    e, size=e.group.size, paid=len(e.fulfilled) + len(e.refunded_twice), virtual=e.virtual,
                    refunded_already_enrolled=len(e.refunded_twice)))],
        after=[forget_group, Live('group_succeeded')]),
    GroupHeldForReview: Handlers(
        during=[Logged('group_held_for_review', lambda e: _in_group(e, reasons=','.join(e.reasons),
                                                                   review_until=e.group.review_until))],
        after=[forget_group, schedule_review_deadline, Live('group_in_review')]),
    GroupFailed: Handlers(
        during=[tell_payers_refunded,
                Logged('group_failed', lambda e: _in_group(e, size=e.group.size, paid=len(e.refunded)))],
        after=[forget_group, Live('group_failed', lambda e: {'refund': {
            'amount_fen': [o.amount_fen for o in e.refunded], 'timing': REFUND_TIMING}})]),
    RefundsStarted: Handlers(
        during=[Logged('late_payment_refunded', lambda e: [
                    dict(user=o.user_id, group=o.group_id, campaign=e.campaign_id, amount_fen=o.amount_fen)
                    for o in e.orders if e.reason == 'late_payment']),
                Logged('duplicate_purchase_refunded', lambda e: [
                    dict(user=o.user_id, group=o.group_id, campaign=e.campaign_id, amount_fen=o.amount_fen,
                         order=o.id)
                    for o in e.orders if e.reason == 'already_enrolled']),
                Logged('tier_difference_refunded', lambda e: [
                    dict(user=o.user_id, group=o.group_id, campaign=e.campaign_id, order=o.id)
                    for o in e.orders if e.reason == 'tier_difference']),
                settle_rewards],
        after=[start_refund_jobs]),
    RefundSucceeded: Handlers(
        during=[Logged('order_refunded', lambda e: dict(user=e.user_id, amount_fen=e.refund.amount_fen))]),
    RefundNeedsAttention: Handlers(
        during=[Logged('refund_needs_attention', lambda e: dict(refund=e.refund.id, trouble=e.trouble))]),
    RefundRetried: Handlers(
        during=[Logged('refund_retried', lambda e: dict(refund=e.refund.id, out_refund_no=e.out_refund_no))],
        after=[retry_refund_job]),
    NudgeSent: Handlers(
        during=[nudge_members,
                Logged('nudge_sent', lambda e: dict(group=e.progress.group_id, campaign=e.progress.campaign_id,
                                                    offset_s=e.offset_s, recipients=len(e.recipients),
                                                    seats_left=e.progress.seats_left))]),
    UserRegistered: Handlers(
        during=[Logged('user_registered', lambda e: dict(user=e.user_id, group=e.group_id, campaign=e.campaign_id,
                                                         referred_by=e.referred_by, channel=e.channel))]),
    UsersMerged: Handlers(
        during=[Logged('users_merged', lambda e: dict(user=e.kept_id, merged_user=e.dropped_id))],
        after=[move_ledger_entries]),
    FollowChanged: Handlers(
        during=[Logged('oa_followed', lambda e: [dict(user=e.user_id)] if e.following else []),
                Logged('oa_unfollowed', lambda e: [] if e.following else [dict(user=e.user_id)])]),
    GroupShared: Handlers(
        during=[Logged('group_shared', lambda e: dict(user=e.sharer_id, group=e.group_id, campaign=e.campaign_id))]),
    ShareClicked: Handlers(
        during=[Logged('share_clicked', lambda e: dict(user=e.viewer_id, group=e.group_id, campaign=e.campaign_id,
                                                       **e.props))]),
    ExperimentStopped: Handlers(
        during=[Logged(ExperimentStopped.log_kind, lambda e: dict(campaign=e.campaign_id, winner=e.winner))]),
}

# Warm-up live rooms (groupbuy/rooms): live events on the room's topic, its timers, the reminder, analytics rows.
HANDLERS.update({
    RoomScheduled: Handlers(
        during=[Logged('room_scheduled', lambda e: rooms.in_room(e, starts_at=e.room.starts_at))],
        after=[rooms.schedule_room_timers, rooms.RoomLive('room_updated', lambda e: {'room': room_json(e.room)})]),
    RoomOpened: Handlers(
        during=[Logged('room_opened', lambda e: rooms.in_room(e, by=e.by))],
        after=[rooms.cancel_room_timers, rooms.RoomLive('room_opened', lambda e: {'room': room_json(e.room)})]),
    RoomClosed: Handlers(
        during=[Logged('room_closed', lambda e: rooms.in_room(e, by=e.by))],
        after=[rooms.cancel_room_timers, rooms.RoomLive('room_closed', lambda e: {'room': room_json(e.room)})]),
    RoomPosted: Handlers(
        during=[Logged('room_posted', lambda e: rooms.in_room(e, post=e.post.id, post_kind=e.post.kind))],
        after=[rooms.RoomLive('post', lambda e: {'post': post_json(e.post)})]),
    QuestionAsked: Handlers(
        during=[Logged('question_asked', lambda e: rooms.in_room(e, user=e.question.user_id, question=e.question.id,
                                                                 masked=e.masked))]),
    QuestionAnswered: Handlers(
        during=[Logged('question_answered', lambda e: rooms.in_room(e, user=e.question.user_id,
                                                                    question=e.question.id))],
        after=[rooms.RoomLive('question', lambda e: {'question': question_json(e.question)})]),
    QuestionPinned: Handlers(
        after=[rooms.RoomLive('question', lambda e: {'question': question_json(e.question)})]),
    RoomItemHidden: Handlers(
        during=[Logged('room_item_hidden', lambda e: rooms.in_room(e, item_kind=e.kind, item=e.item_id, by=e.by))],
        after=[rooms.RoomLive('hidden', lambda e: {'kind': e.kind, 'item_id': e.item_id})]),
    UserMuted: Handlers(
        during=[Logged('user_muted', lambda e: rooms.in_room(e, user=e.user_id, until=e.until, by=e.by))]),
    RoomSubscribed: Handlers(
        during=[Logged('room_subscribed', lambda e: rooms.in_room(e, user=e.user_id))],
        after=[rooms.schedule_reminder]),
    RoomAttended: Handlers(
        during=[Logged('room_attended', lambda e: rooms.in_room(e, user=e.user_id, status=e.room.status))]),
    RoomReminderSent: Handlers(
        during=[rooms.tell_subscribers_room_starting,
                Logged('room_reminder_sent', lambda e: rooms.in_room(e, recipients=len(e.recipients)))]),
})


def deliver(t, event) -> None:
    """Run `event`'s in-transaction handlers now and queue its after-commit ones on `t`."""
    handlers = HANDLERS[type(event)]
    for handler in handlers.during:
        handler(t, event)
    for handler in handlers.after:
        t.after.add(handler, t, event)


def table() -> list[tuple[str, list[str], list[str]]]:
    """(event, during handlers, after-commit handlers) — what docs/ARCHITECTURE.md shows."""
    return [(kind.__name__, [h.__name__ for h in hs.during], [h.__name__ for h in hs.after])
            for kind, hs in HANDLERS.items()]
