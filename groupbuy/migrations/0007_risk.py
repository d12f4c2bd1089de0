"""Risk control: the decision log with its signals, blocklists, a campaign's rule changes, and a group's
review deadline."""
import datetime as dt

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField
from playhouse.migrate import migrate


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _ref(name):
    class Ref(Model):
        class Meta:
            table_name = name
    return Ref


class RiskCheck(Model):
    at = DateTimeField(index=True)
    action = CharField(max_length=8)
    user = ForeignKeyField(_ref('user'), null=True, on_delete='SET NULL')
    group = ForeignKeyField(_ref('group'), null=True, on_delete='SET NULL')
    campaign = ForeignKeyField(_ref('campaign'), null=True, on_delete='SET NULL')
    device = CharField(max_length=64, default='')
    ip = CharField(max_length=45, default='')
    network = CharField(max_length=64, default='')
    user_agent = CharField(max_length=256, default='')
    payer = CharField(max_length=64, default='')
    account_age_s = IntegerField(default=0)
    has_phone = BooleanField(default=False)
    decision = CharField(max_length=16)
    reasons = CharField(max_length=256, default='')
    rules = CharField(max_length=16, default='')

    class Meta:
        table_name = 'risk_check'
        indexes = ((('device', 'at'), False), (('network', 'at'), False), (('payer', 'at'), False),
                   (('group', 'action'), False))


class RiskBlock(Model):
    kind = CharField(max_length=16)
    value = CharField(max_length=64)
    reason = CharField(max_length=200, default='')
    created_at = DateTimeField(default=utcnow)
    until = DateTimeField(null=True)
    created_by = CharField(max_length=64, default='')

    class Meta:
        table_name = 'risk_block'
        indexes = ((('kind', 'value'), True),)


def up(database, migrator):
    for model in (RiskCheck, RiskBlock):
        model._meta.set_database(database)
    database.create_tables([RiskCheck, RiskBlock])
    migrate(migrator.add_column('campaign', 'risk_rules', TextField(null=True)),
            migrator.add_column('group', 'review_until', DateTimeField(null=True)))
