"""Warm-up live rooms (groupbuy/rooms): a campaign's room, its posts and questions, mutes, reminder
subscriptions and first visits."""
import datetime as dt

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _ref(name):
    class Ref(Model):
        class Meta:
            table_name = name
    return Ref


class LiveRoom(Model):
    campaign = ForeignKeyField(_ref('campaign'), unique=True, on_delete='CASCADE')
    title = CharField(max_length=100)
    starts_at = DateTimeField()
    ends_at = DateTimeField(null=True)
    stream_url = CharField(max_length=512, default='')
    status = CharField(max_length=16, default='scheduled')
    remind_before_s = IntegerField(default=600)
    created_at = DateTimeField(default=utcnow)
    opened_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True)

    class Meta:
        table_name = 'live_room'


class RoomPost(Model):
    room = ForeignKeyField(LiveRoom, on_delete='CASCADE')
    author = CharField(max_length=64)
    kind = CharField(max_length=16)
    body = TextField(default='')
    picture_url = CharField(max_length=512, default='')
    hidden = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = 'room_post'


class RoomQuestion(Model):
    room = ForeignKeyField(LiveRoom, on_delete='CASCADE')
    user = ForeignKeyField(_ref('user'), on_delete='CASCADE')
    text = TextField()
    answer = TextField(null=True)
    answered_by = CharField(max_length=64, null=True)
    answered_at = DateTimeField(null=True)
    pinned = BooleanField(default=False)
    hidden = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = 'room_question'


class RoomMute(Model):
    room = ForeignKeyField(LiveRoom, on_delete='CASCADE')
    user = ForeignKeyField(_ref('user'), on_delete='CASCADE')
    until = DateTimeField(null=True)
    muted_by = CharField(max_length=64, default='')
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = 'room_mute'
        indexes = ((('room', 'user'), True),)


class RoomSubscription(Model):
    room = ForeignKeyField(LiveRoom, on_delete='CASCADE')
    user = ForeignKeyField(_ref('user'), on_delete='CASCADE')
    created_at = DateTimeField(default=utcnow)
    reminded_at = DateTimeField(null=True)

    class Meta:
        table_name = 'room_subscription'
        indexes = ((('room', 'user'), True),)


class RoomVisit(Model):
    room = ForeignKeyField(LiveRoom, on_delete='CASCADE')
    user = ForeignKeyField(_ref('user'), on_delete='CASCADE')
    first_at = DateTimeField()

    class Meta:
        table_name = 'room_visit'
        indexes = ((('room', 'user'), True),)


TABLES = (LiveRoom, RoomPost, RoomQuestion, RoomMute, RoomSubscription, RoomVisit)


def up(database, migrator):
    for model in TABLES:
        model._meta.set_database(database)
    database.create_tables(TABLES)
