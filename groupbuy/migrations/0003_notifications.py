"""Notifications that reach people: consents, the inbox, quiet hours, broadcasts, nudge offsets, SMS log."""
import datetime as dt

from peewee import SQL, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField
from playhouse.migrate import migrate


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class _User(Model):
    class Meta:
        table_name = 'user'


class SubscriptionConsent(Model):
    user = ForeignKeyField(_User, backref='consents')
    template_id = CharField(max_length=64)
    remaining = IntegerField(default=0)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = 'subscription_consent'
        indexes = ((('user', 'template_id'), True),)


class Broadcast(Model):
    segment = TextField()
    message = TextField()
    status = CharField(max_length=16, default='queued')
    total = IntegerField(default=0)
    sent = IntegerField(default=0)
    skipped = IntegerField(default=0)
    failed = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)

    class Meta:
        table_name = 'broadcast'


class SmsMessage(Model):
    phone = CharField(max_length=32)
    text = TextField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = 'sms_message'


def up(database, migrator):
    migrate(
        # NOT NULL with a database default in one ALTER: peewee's other path rebuilds the table on
        # SQLite, which (with foreign keys on) would null every event.campaign_id.
        migrator.add_column('campaign', 'nudge_offsets',
                            CharField(max_length=64, default='7200,900', constraints=[SQL("DEFAULT '7200,900'")]),
                            allow_not_null=True),
        migrator.add_column('notification', 'not_before', DateTimeField(null=True)),
        migrator.add_column('notification', 'read_at', DateTimeField(null=True)),
        migrator.add_column('notification', 'last_error', TextField(null=True)),
    )
    models = [SubscriptionConsent, Broadcast, SmsMessage]
    with database.bind_ctx(models + [_User]):
        database.create_tables(models)
