"""Peewee models (DESIGN.md §2). Money in integer fen, times naive UTC.

The database is bound at start-up through `db` (a DatabaseProxy), so importing this module opens
nothing. Schema changes go through `groupbuy/migrations/`, never `create_tables` in app code.
"""
import datetime as dt
import secrets

from peewee import (SQL, AutoField, BooleanField, CharField, DatabaseProxy, DateTimeField,
                    FloatField, ForeignKeyField, IntegerField, Model, NodeList, SqliteDatabase, TextField)

db = DatabaseProxy()
MAX_ID = 2 ** 63 - 1  # the largest integer SQLite and PostgreSQL (BIGINT) take: an id beyond it names nothing


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def new_token_key() -> str:
    return secrets.token_hex(8)


class NeverReusedId(AutoField):
    """A primary key whose values are never handed out twice. PostgreSQL's sequences never reuse;
    SQLite reuses the largest id after its row is deleted unless the column says AUTOINCREMENT."""

    def ddl(self, ctx):
        node = super().ddl(ctx)
        database = self.model._meta.database
        database = database.obj if isinstance(database, DatabaseProxy) else database
        return NodeList((node, SQL('AUTOINCREMENT'))) if isinstance(database, SqliteDatabase) else node


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class User(BaseModel):
    """One person. `openid` is their mini-program openid (null for someone known only from the
    official account, through the bot or the H5 page); `unionid` ties the two (groupbuy.identity).
    Rows are deleted when two accounts merge, so ids must never be reused (`NeverReusedId`);
    `token_key` is in every token of this user (miniapp_api.auth): a new key revokes them all."""
    id = NeverReusedId()
    openid = CharField(max_length=64, unique=True, null=True)
    unionid = CharField(max_length=64, null=True, index=True)
    nickname = CharField(max_length=64, default='微信用户')
    avatar_url = CharField(max_length=512, default='')
    created_at = DateTimeField(default=utcnow)
    first_paid_at = DateTimeField(null=True)
    referred_by = ForeignKeyField('self', null=True, backref='referrals', on_delete='SET NULL')
    oa_openid = CharField(max_length=64, unique=True, null=True)  # official-account openid
    follows_oa = BooleanField(default=False)  # template messages reach followers only
    phone = CharField(max_length=32, null=True)
    phone_country_code = CharField(max_length=8, null=True)
    token_key = CharField(max_length=32, default=new_token_key)


class Course(BaseModel):
    title = CharField(max_length=200)
    price_fen = IntegerField()
    cover_url = CharField(max_length=512, default='')
    status = CharField(max_length=16, default='active')  # active | archived
    created_at = DateTimeField(default=utcnow)


class Campaign(BaseModel):
    """A 拼团活动: the group price of one course, the group size and how long a group may take."""
    course = ForeignKeyField(Course, backref='campaigns')
    group_size = IntegerField()
    duration_s = IntegerField()
    group_price_fen = IntegerField()
    leader_price_fen = IntegerField(null=True)
    starts_at = DateTimeField(null=True)
    ends_at = DateTimeField(null=True)
    max_groups = IntegerField(null=True)
    per_user_limit = IntegerField(default=1)
    new_users_only = BooleanField(default=False)
    auto_complete_ratio = FloatField(null=True)
    status = CharField(max_length=16, default='active')  # draft | active | paused | ended
    created_at = DateTimeField(default=utcnow)
    nudge_offsets = CharField(max_length=64, default='7200,900')  # seconds before the deadline, comma-separated
    winner_variant = CharField(max_length=32, null=True)  # an A/B test stopped: new groups take this variant
    risk_rules = TextField(null=True)  # JSON: this campaign's changes to the default risk rules (groupbuy/risk)
    # Growth levers (groupbuy/tiers.py, groupbuy/rewards.py, groupbuy/catalog.py):
    tiers = TextField(null=True)  # JSON [[size, price_fen], ...] ascending: a tiered group (阶梯团)
    reward = TextField(null=True)  # JSON: what a referrer earns when a newcomer they brought is in a group that succeeds
    band_low_fen = IntegerField(null=True)  # cross-course groups: the list prices the campaign's courses must lie in
    band_high_fen = IntegerField(null=True)


class CampaignVariant(BaseModel):
    """One arm of a campaign's A/B test of group rules. A leader's group takes one (stable hash of campaign
    and leader, by weight); the group keeps those rules (`Group.duration_s`, `Group.price_fen`) to the end."""
    campaign = ForeignKeyField(Campaign, backref='variants', on_delete='CASCADE')
    name = CharField(max_length=32)
    weight = IntegerField(default=1)
    group_size = IntegerField()
    duration_s = IntegerField()
    group_price_fen = IntegerField()
    leader_price_fen = IntegerField(null=True)

    class Meta:
        indexes = ((('campaign', 'name'), True),)


# A group's statuses, named once (docs/ARCHITECTURE.md, "State machines").
GROUP_STATUSES = ('pending', 'forming', 'reviewing', 'succeeded', 'failed', 'cancelled')
LIVE_GROUP = ('pending', 'forming')  # seats can still be taken or paid for
OPENED_GROUP = ('forming', 'reviewing', 'succeeded', 'failed')  # the leader paid (a pending or cancelled never opened)
DECIDED_GROUP = ('succeeded', 'failed')


class Group(BaseModel):
    campaign = ForeignKeyField(Campaign, backref='groups')
    leader = ForeignKeyField(User, backref='led_groups')
    share_code = CharField(max_length=32, unique=True)
    size = IntegerField()
    status = CharField(max_length=16, default='pending', index=True)
    deadline_at = DateTimeField(null=True, index=True)
    opened_at = DateTimeField(default=utcnow)
    closed_at = DateTimeField(null=True)
    variant = CharField(max_length=32, null=True)
    # The rules the group was opened with (its campaign's, or its variant's): a campaign edited or a test
    # stopped later changes new groups only.
    duration_s = IntegerField()
    price_fen = IntegerField()  # what a member pays (a tiered group: its smallest tier's price)
    leader_price_fen = IntegerField(null=True)  # what the leader pays when it differs (0: a free leader, 团长免单)
    tiers = TextField(null=True)  # JSON [[size, price_fen], ...]: a tiered group; `size` is its largest tier
    review_until = DateTimeField(null=True)  # in risk review: an operator decides by then, else it is refunded


class CampaignCourse(BaseModel):
    """A further course of a cross-course campaign (跨课程拼团): each member picks the course they buy."""
    campaign = ForeignKeyField(Campaign, backref='extra_courses', on_delete='CASCADE')
    course = ForeignKeyField(Course, backref='campaign_links')

    class Meta:
        indexes = ((('campaign', 'course'), True),)


class Order(BaseModel):
    user = ForeignKeyField(User, backref='orders')
    group = ForeignKeyField(Group, backref='orders', null=True)
    course = ForeignKeyField(Course, backref='orders')
    kind = CharField(max_length=16, default='group_buy')  # group_buy | regular
    amount_fen = IntegerField()
    status = CharField(max_length=16, default='created', index=True)
    out_trade_no = CharField(max_length=32, unique=True)
    prepay_id = CharField(max_length=64, null=True)
    transaction_id = CharField(max_length=64, null=True)
    created_at = DateTimeField(default=utcnow)
    paid_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True)
    discount_fen = IntegerField(default=0)  # a coupon's amount off (amount_fen is what WeChat charged)
    coupon_id = IntegerField(null=True)  # the Reward (coupon) this order holds or used (no FK: the two refer to each other)
    # the appid WeChat Pay made the order for (the door: mini-program or official account); its orderquery, closeorder
    # and refunds must carry it. Null: made before it was kept, the mini-program's.
    pay_appid = CharField(max_length=32, null=True)


class Seat(BaseModel):
    """A place in a group, held by one user while they pay. Unique per (group, user) unless released."""
    group = ForeignKeyField(Group, backref='seats')
    user = ForeignKeyField(User, backref='seats')
    order = ForeignKeyField(Order, backref='seats', unique=True)
    role = CharField(max_length=8)  # leader | member
    status = CharField(max_length=16, default='reserved', index=True)  # reserved | paid | released
    reserved_until = DateTimeField(index=True)
    created_at = DateTimeField(default=utcnow)


Seat.add_index(Seat.index(Seat.group, Seat.user, unique=True).where(SQL("status <> 'released'")))


class Refund(BaseModel):
    """Money going back. An order has at most one refund per reason: one full refund (group_failed,
    late_payment, already_enrolled, after_sale, coupon_gone) and, in a tiered group, one `tier_difference`."""
    order = ForeignKeyField(Order, backref='refunds')
    out_refund_no = CharField(max_length=32, unique=True)
    amount_fen = IntegerField()
    reason = CharField(max_length=32)  # group_failed | late_payment | group_closed ...
    status = CharField(max_length=16, default='pending', index=True)  # pending|submitted|succeeded|failed
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    refund_id = CharField(max_length=64, null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    succeeded_at = DateTimeField(null=True)

    class Meta:
        indexes = ((('order', 'reason'), True),)


class Enrollment(BaseModel):
    user = ForeignKeyField(User, backref='enrollments')
    course = ForeignKeyField(Course, backref='enrollments')
    order = ForeignKeyField(Order, backref='enrollments', null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((('user', 'course'), True),)


class Notification(BaseModel):
    """Outbox of messages to users; one row per fact and recipient (dedupe_key)."""
    user = ForeignKeyField(User, backref='notifications')
    kind = CharField(max_length=32)
    channel = CharField(max_length=16, null=True)
    payload = TextField(default='{}')
    dedupe_key = CharField(max_length=128, unique=True)
    status = CharField(max_length=16, default='pending', index=True)  # pending | sent | failed
    attempts = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    not_before = DateTimeField(null=True)  # quiet hours: deliver the push from then on
    read_at = DateTimeField(null=True)  # the in-app inbox
    last_error = TextField(null=True)


class SubscriptionConsent(BaseModel):
    """One-time mini-program subscribe consents a user gave per template (WeChat: one message each)."""
    user = ForeignKeyField(User, backref='consents')
    template_id = CharField(max_length=64)
    remaining = IntegerField(default=0)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((('user', 'template_id'), True),)


class Broadcast(BaseModel):
    """An operator's message to a segment of users, sent by a throttled job, never twice to one person."""
    segment = TextField()  # JSON
    message = TextField()
    status = CharField(max_length=16, default='queued')  # queued | running | done | failed
    total = IntegerField(default=0)
    sent = IntegerField(default=0)
    skipped = IntegerField(default=0)
    failed = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    last_error = TextField(null=True)  # why the last run crashed (status failed); `run` again resumes


class SmsMessage(BaseModel):
    """What the default SMS provider would have sent (it sends nothing; see gateways/sms.py)."""
    phone = CharField(max_length=32)
    text = TextField()
    created_at = DateTimeField(default=utcnow)


class Event(BaseModel):
    """Append-only log for analytics."""
    kind = CharField(max_length=32, index=True)
    user = ForeignKeyField(User, null=True, backref='events', on_delete='SET NULL')
    group = ForeignKeyField(Group, null=True, backref='events', on_delete='SET NULL')
    campaign = ForeignKeyField(Campaign, null=True, backref='events', on_delete='SET NULL')
    at = DateTimeField(default=utcnow, index=True)
    props = TextField(default='{}')


class Operator(BaseModel):
    """Someone who runs the shop in the console (/admin): `operator` (campaigns, groups, broadcasts),
    `analyst` (reads everything, exports), `finance` (refunds, the money audit)."""
    name = CharField(max_length=64, unique=True)
    password_hash = CharField(max_length=255)  # werkzeug's scrypt
    role = CharField(max_length=16)
    created_at = DateTimeField(default=utcnow)
    disabled_at = DateTimeField(null=True)


class OperatorSession(BaseModel):
    """A signed-in console browser. The cookie holds a random token; only its SHA-256 is stored."""
    token_hash = CharField(max_length=64, unique=True)
    operator = ForeignKeyField(Operator, backref='sessions', on_delete='CASCADE')
    csrf_token = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
    ended_at = DateTimeField(null=True)


class OperatorAction(BaseModel):
    """Who did what to what, when, before → after: every operator action, console or bearer token."""
    operator = ForeignKeyField(Operator, null=True, backref='actions', on_delete='SET NULL')
    actor = CharField(max_length=64)  # the operator's name, or 'ADMIN_TOKEN' for automation
    action = CharField(max_length=64)
    target = CharField(max_length=64)
    before = TextField(default='{}')
    after = TextField(default='{}')
    at = DateTimeField(default=utcnow, index=True)


class RiskCheck(BaseModel):
    """One risk decision on an open, a join or a payment, with the signals it was made on: every decision
    can be explained, and replayed under other rules (groupbuy/risk/replay.py)."""
    at = DateTimeField(index=True)
    action = CharField(max_length=8)  # open | join | pay
    user = ForeignKeyField(User, null=True, backref='risk_checks', on_delete='SET NULL')
    group = ForeignKeyField(Group, null=True, backref='risk_checks', on_delete='SET NULL')
    campaign = ForeignKeyField(Campaign, null=True, backref='risk_checks', on_delete='SET NULL')
    device = CharField(max_length=64, default='')
    ip = CharField(max_length=45, default='')
    network = CharField(max_length=64, default='')
    user_agent = CharField(max_length=256, default='')
    payer = CharField(max_length=64, default='')  # the WeChat openid that paid (payments)
    account_age_s = IntegerField(default=0)
    has_phone = BooleanField(default=False)  # a verified phone was bound (a challenge is passed)
    decision = CharField(max_length=16)  # allow | challenge | review | block
    reasons = CharField(max_length=256, default='')  # comma-separated reason codes
    rules = CharField(max_length=16, default='')  # the version (hash) of the rules that decided

    class Meta:  # the history's lookups: by device, network or payer within a time window
        indexes = ((('device', 'at'), False), (('network', 'at'), False), (('payer', 'at'), False),
                   (('group', 'action'), False))


class RiskBlock(BaseModel):
    """A blocklist entry: a user id, a device id, an address, an address's /24 (/64) or a payer openid."""
    kind = CharField(max_length=16)  # user | device | ip | network | payer
    value = CharField(max_length=64)
    reason = CharField(max_length=200, default='')
    created_at = DateTimeField(default=utcnow)
    until = DateTimeField(null=True)  # None: until removed
    created_by = CharField(max_length=64, default='')

    class Meta:
        indexes = ((('kind', 'value'), True),)


class Reward(BaseModel):
    """What a referrer earned (老带新): a coupon (amount off a next course) or points, for one newcomer they brought
    into a group that succeeded. A coupon is available → held (by a checkout's order) → used (it was paid);
    held goes back to available when that order is not paid, used goes back when it is refunded; revoked when
    the order that earned it is refunded. `RewardEntry` is the ledger of every move."""
    user = ForeignKeyField(User, backref='rewards', on_delete='CASCADE')
    kind = CharField(max_length=8)  # coupon | points
    amount_fen = IntegerField(default=0)  # coupon: amount off
    min_spend_fen = IntegerField(default=0)  # coupon: the price it applies from
    points = IntegerField(default=0)
    expires_at = DateTimeField(null=True)
    status = CharField(max_length=16, default='available', index=True)  # available | held | used | revoked
    order = ForeignKeyField(Order, null=True, backref='held_coupons', on_delete='SET NULL')  # held or used by
    earned_by = ForeignKeyField(Order, backref='earned_rewards', unique=True)  # the newcomer's order
    newcomer = ForeignKeyField(User, backref='brought_rewards', unique=True, null=True, on_delete='SET NULL')  # once per newcomer
    campaign = ForeignKeyField(Campaign, backref='rewards')
    created_at = DateTimeField(default=utcnow)


class RewardEntry(BaseModel):
    """The rewards ledger: one row per grant, hold, release, use, return and revocation."""
    reward = ForeignKeyField(Reward, backref='entries', on_delete='CASCADE')
    user = ForeignKeyField(User, backref='reward_entries', on_delete='CASCADE')
    action = CharField(max_length=16)  # grant | hold | release | use | return | revoke
    order = ForeignKeyField(Order, null=True, backref='reward_entries', on_delete='SET NULL')
    points = IntegerField(default=0)  # the change to the points balance
    note = CharField(max_length=200, default='')
    at = DateTimeField(default=utcnow, index=True)


ALL_MODELS = [User, Course, Campaign, Group, Order, Seat, Refund, Enrollment, Notification, Event,
              SubscriptionConsent, Broadcast, SmsMessage, CampaignVariant, Operator, OperatorSession, OperatorAction,
              RiskCheck, RiskBlock, CampaignCourse, Reward, RewardEntry]


# Warm-up live rooms (groupbuy/rooms): a campaign's room before (and while) it sells — staff posts, the
# audience's questions, who came and who wants a reminder. The stream itself is the live provider's.
ROOM_STATUSES = ('scheduled', 'open', 'closed')


class LiveRoom(BaseModel):
    """A campaign's warm-up live room. Opens by itself at `starts_at` (or earlier by an operator); subscribers
    hear `remind_before_s` before. `stream_url`: an HLS (.m3u8) https URL for the H5 player, or a mini-program
    live-player URL (rtmp://, https://….flv)."""
    campaign = ForeignKeyField(Campaign, unique=True, backref='rooms', on_delete='CASCADE')
    title = CharField(max_length=100)
    starts_at = DateTimeField()
    ends_at = DateTimeField(null=True)  # announced end; the room closes when an operator closes it
    stream_url = CharField(max_length=512, default='')
    status = CharField(max_length=16, default='scheduled')  # scheduled | open | closed
    remind_before_s = IntegerField(default=600)
    created_at = DateTimeField(default=utcnow)
    opened_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True)


class RoomPost(BaseModel):
    """What the lecturer or an assistant posts: text, a picture, or a stream link. Hidden posts are never served."""
    room = ForeignKeyField(LiveRoom, backref='posts', on_delete='CASCADE')
    author = CharField(max_length=64)  # the staff member's name as the room shows it
    kind = CharField(max_length=16)  # text | picture | stream
    body = TextField(default='')
    picture_url = CharField(max_length=512, default='')
    hidden = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow, index=True)


class RoomQuestion(BaseModel):
    """A member's or visitor's question. Public once answered or pinned, and until hidden."""
    room = ForeignKeyField(LiveRoom, backref='questions', on_delete='CASCADE')
    user = ForeignKeyField(User, backref='room_questions', on_delete='CASCADE')
    text = TextField()
    answer = TextField(null=True)
    answered_by = CharField(max_length=64, null=True)
    answered_at = DateTimeField(null=True)
    pinned = BooleanField(default=False)
    hidden = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow, index=True)


class RoomMute(BaseModel):
    """Someone an operator silenced in a room, until `until` (None: for the room's life)."""
    room = ForeignKeyField(LiveRoom, backref='mutes', on_delete='CASCADE')
    user = ForeignKeyField(User, backref='room_mutes', on_delete='CASCADE')
    until = DateTimeField(null=True)
    muted_by = CharField(max_length=64, default='')
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((('room', 'user'), True),)


class RoomSubscription(BaseModel):
    """Someone who asked to be reminded before the room opens; `reminded_at` once they were (never twice)."""
    room = ForeignKeyField(LiveRoom, backref='subscriptions', on_delete='CASCADE')
    user = ForeignKeyField(User, backref='room_subscriptions', on_delete='CASCADE')
    created_at = DateTimeField(default=utcnow)
    reminded_at = DateTimeField(null=True)

    class Meta:
        indexes = ((('room', 'user'), True),)


class RoomVisit(BaseModel):
    """A signed-in person's first visit to a room: attendance, and who counts as a viewer in the numbers."""
    room = ForeignKeyField(LiveRoom, backref='visits', on_delete='CASCADE')
    user = ForeignKeyField(User, backref='room_visits', on_delete='CASCADE')
    first_at = DateTimeField()

    class Meta:
        indexes = ((('room', 'user'), True),)


ALL_MODELS += [LiveRoom, RoomPost, RoomQuestion, RoomMute, RoomSubscription, RoomVisit]
