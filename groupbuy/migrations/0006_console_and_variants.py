"""The operator console (operators, their sessions, the action log) and A/B tests of group rules
(campaign variants, a stopped test's winner); every group keeps the rules it was opened with."""
import datetime as dt

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, PostgresqlDatabase, TextField
from playhouse.migrate import migrate


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class _Campaign(Model):
    class Meta:
        table_name = 'campaign'


class CampaignVariant(Model):
    campaign = ForeignKeyField(_Campaign, backref='variants', on_delete='CASCADE')
    name = CharField(max_length=32)
    weight = IntegerField(default=1)
    group_size = IntegerField()
    duration_s = IntegerField()
    group_price_fen = IntegerField()
    leader_price_fen = IntegerField(null=True)

    class Meta:
        table_name = 'campaign_variant'
        indexes = ((('campaign', 'name'), True),)


class Operator(Model):
    name = CharField(max_length=64, unique=True)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16)
    created_at = DateTimeField(default=utcnow)
    disabled_at = DateTimeField(null=True)

    class Meta:
        table_name = 'operator'


class OperatorSession(Model):
    token_hash = CharField(max_length=64, unique=True)
    operator = ForeignKeyField(Operator, backref='sessions', on_delete='CASCADE')
    csrf_token = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
    ended_at = DateTimeField(null=True)

    class Meta:
        table_name = 'operator_session'


class OperatorAction(Model):
    operator = ForeignKeyField(Operator, null=True, backref='actions', on_delete='SET NULL')
    actor = CharField(max_length=64)
    action = CharField(max_length=64)
    target = CharField(max_length=64)
    before = TextField(default='{}')
    after = TextField(default='{}')
    at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = 'operator_action'


def up(database, migrator):
    for model in (CampaignVariant, Operator, OperatorSession, OperatorAction):
        model._meta.set_database(database)
    database.create_tables([CampaignVariant, Operator, OperatorSession, OperatorAction])
    migrate(migrator.add_column('campaign', 'winner_variant', CharField(max_length=32, null=True)))
    # NOT NULL with a default in one ALTER, then each group takes its campaign's rules (peewee's other path
    # rebuilds the table on SQLite, which with foreign keys on would touch every row pointing at a group).
    for column, source in (('duration_s', 'duration_s'), ('price_fen', 'group_price_fen')):
        database.execute_sql(f'ALTER TABLE "group" ADD COLUMN "{column}" INTEGER NOT NULL DEFAULT 0')
        database.execute_sql(f'UPDATE "group" SET "{column}" = (SELECT "{source}" FROM "campaign" '
                             f'WHERE "campaign"."id" = "group"."campaign_id")')
        if isinstance(database, PostgresqlDatabase):
            database.execute_sql(f'ALTER TABLE "group" ALTER COLUMN "{column}" DROP DEFAULT')
