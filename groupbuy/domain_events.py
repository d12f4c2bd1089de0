"""What happened, as typed values. A transition changes rows and emits these (`Transition.emit`); what
follows from each — the analytics log, the notification outbox, the seat ledger, the deadline index,
live events, jobs — is registered in one place, groupbuy/subscribers.py. Events carry the rows in
hand and the group's `Progress` as of the transition, so no handler has to read them again."""
import datetime as dt
from dataclasses import dataclass, field
from typing import ClassVar

from .models import Group, Order, Refund, Seat
from .models import LiveRoom, RoomPost, RoomQuestion  # warm-up live rooms
from .progress import Progress


@dataclass(frozen=True)
class GroupOpened:
    """A leader took the first seat of a new group (pending until they pay)."""
    group: Group
    seat: Seat
    progress: Progress


@dataclass(frozen=True)
class SeatReserved:
    """Someone holds a seat for the pay window (the live event reads the group's progress after commit)."""
    group: Group
    seat: Seat


@dataclass(frozen=True)
class SeatPaid:
    """A payment kept its seat (leader or member); GroupFormed or MemberJoined follows."""
    group: Group
    seat: Seat
    order: Order
    progress: Progress


@dataclass(frozen=True)
class GroupFormed:
    """The leader paid: the group is open to join until its deadline."""
    group: Group
    seat: Seat
    member: dict  # the leader as the live page shows them
    progress: Progress


@dataclass(frozen=True)
class MemberJoined:
    """A member's payment kept their seat."""
    group: Group
    seat: Seat
    member: dict
    progress: Progress


@dataclass(frozen=True)
class SeatReleased:
    """A pay window ended unpaid, or a payment came too late for the seat it held (the group stays open)."""
    group: Group
    seat: Seat
    close_later: bool  # WeChat could not be asked: close the payment by job


@dataclass(frozen=True)
class GroupCancelled:
    """The leader's pay window ended unpaid: the group never opened."""
    group: Group
    seat: Seat
    progress: Progress
    close_later: bool


@dataclass(frozen=True)
class ReservationsDropped:
    """A group closed while people were still paying: their seats and orders are gone."""
    group: Group
    seats: list[Seat]


@dataclass(frozen=True)
class GroupSucceeded:
    group: Group
    progress: Progress
    fulfilled: list[Order]  # orders that gave their payer the course
    refunded_twice: list[Order] = field(default_factory=list)  # payers who already owned it
    virtual: bool = False  # decided by the campaign's auto-complete ratio, not a full group


@dataclass(frozen=True)
class GroupHeldForReview:
    """A group filled (or reached its ratio) in a way risk control doubts: its money is held, no course is
    given, until an operator approves (it succeeds) or rejects it, or `review_until` passes (it is refunded)."""
    group: Group
    progress: Progress
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class GroupFailed:
    group: Group
    progress: Progress
    refunded: list[Order]


@dataclass(frozen=True)
class RefundsStarted:
    """Orders moved to refunding, each with its refund row; the refund job makes the call."""
    orders: list[Order]
    reason: str  # group_failed | late_payment | already_enrolled
    campaign_id: int | None = None


@dataclass(frozen=True)
class RefundSucceeded:
    refund: Refund
    user_id: int


@dataclass(frozen=True)
class RefundNeedsAttention:
    """WeChat said the refund went wrong (CHANGE, REFUNDCLOSE): an operator must look."""
    refund: Refund
    trouble: str


@dataclass(frozen=True)
class RefundRetried:
    """An operator fixed the cause and sent a failed refund again."""
    refund: Refund
    out_refund_no: str  # the number this attempt uses (a closed refund gets the next one)


@dataclass(frozen=True)
class UserRegistered:
    user_id: int
    referred_by: int | None = None
    channel: str | None = None
    group_id: int | None = None  # the group whose share was the newcomer's first door (the viral coefficient)
    campaign_id: int | None = None


@dataclass(frozen=True)
class UsersMerged:
    kept_id: int
    dropped_id: int
    live_group_ids: list[int]  # groups whose ledger entry moves to the kept id


@dataclass(frozen=True)
class FollowChanged:
    """The user followed or unfollowed the official account."""
    user_id: int
    following: bool


@dataclass(frozen=True)
class GroupShared:
    """Someone took a group's share card (the mini-program's onShareAppMessage): the funnel's first step."""
    sharer_id: int | None
    group_id: int
    campaign_id: int


@dataclass(frozen=True)
class ShareClicked:
    viewer_id: int | None
    group_id: int | None
    campaign_id: int | None
    props: dict


@dataclass(frozen=True)
class NudgeSent:
    progress: Progress
    offset_s: int
    recipients: list[int]
    not_before: dt.datetime | None  # quiet hours hold the pushes back until then


@dataclass(frozen=True)
class ExperimentStopped:
    """An operator stopped a campaign's A/B test: new groups take the winner's rules, groups in flight keep theirs.
    Its log row is the one record of when (the results count the groups opened before it)."""
    campaign_id: int
    winner: str
    log_kind: ClassVar[str] = 'experiment_stopped'


# --- warm-up live rooms (groupbuy/rooms) ---

@dataclass(frozen=True)
class RoomScheduled:
    """A room was created or its schedule, title or stream changed: its timers move, its viewers see it."""
    room: LiveRoom


@dataclass(frozen=True)
class RoomOpened:
    room: LiveRoom
    by: str  # an operator's name, or 'schedule' when the start time opened it


@dataclass(frozen=True)
class RoomClosed:
    room: LiveRoom
    by: str


@dataclass(frozen=True)
class RoomPosted:
    """The lecturer or an assistant posted (text, a picture, a stream link)."""
    room: LiveRoom
    post: RoomPost


@dataclass(frozen=True)
class QuestionAsked:
    """Someone asked; the question is public only once staff answer or pin it."""
    room: LiveRoom
    question: RoomQuestion
    masked: bool  # the word filter masked part of it


@dataclass(frozen=True)
class QuestionAnswered:
    room: LiveRoom
    question: RoomQuestion


@dataclass(frozen=True)
class QuestionPinned:
    """Pinned or unpinned (`question.pinned`)."""
    room: LiveRoom
    question: RoomQuestion


@dataclass(frozen=True)
class RoomItemHidden:
    """An operator hid a post or a question: every screen removes it."""
    room: LiveRoom
    kind: str  # post | question
    item_id: int
    by: str


@dataclass(frozen=True)
class UserMuted:
    room: LiveRoom
    user_id: int
    until: dt.datetime | None
    by: str


@dataclass(frozen=True)
class RoomSubscribed:
    """Someone wants a reminder before the room opens."""
    room: LiveRoom
    user_id: int


@dataclass(frozen=True)
class RoomAttended:
    """A signed-in person's first visit to the room (once per person and room)."""
    room: LiveRoom
    user_id: int


@dataclass(frozen=True)
class RoomReminderSent:
    """The reminder before the room opens went to these subscribers (each once)."""
    room: LiveRoom
    recipients: list[int]
