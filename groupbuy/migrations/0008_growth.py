"""Growth levers: tiered groups, a group's leader price, cross-course campaigns, referral rewards (coupons and
points with their ledger), a coupon's discount on an order, and a second refund per order (a tier difference)."""
import datetime as dt

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField
from playhouse.migrate import migrate


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _ref(name):
    class Ref(Model):
        class Meta:
            table_name = name
    return Ref


class CampaignCourse(Model):
    campaign = ForeignKeyField(_ref('campaign'), on_delete='CASCADE')
    course = ForeignKeyField(_ref('course'))

    class Meta:
        table_name = 'campaign_course'
        indexes = ((('campaign', 'course'), True),)


class Reward(Model):
    user = ForeignKeyField(_ref('user'), on_delete='CASCADE')
    kind = CharField(max_length=8)
    amount_fen = IntegerField(default=0)
    min_spend_fen = IntegerField(default=0)
    points = IntegerField(default=0)
    expires_at = DateTimeField(null=True)
    status = CharField(max_length=16, default='available', index=True)
    order = ForeignKeyField(_ref('order'), null=True, on_delete='SET NULL')
    earned_by = ForeignKeyField(_ref('order'), unique=True)
    newcomer = ForeignKeyField(_ref('user'), unique=True, null=True, on_delete='SET NULL')
    campaign = ForeignKeyField(_ref('campaign'))
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = 'reward'


class RewardEntry(Model):
    reward = ForeignKeyField(Reward, on_delete='CASCADE')
    user = ForeignKeyField(_ref('user'), on_delete='CASCADE')
    action = CharField(max_length=16)
    order = ForeignKeyField(_ref('order'), null=True, on_delete='SET NULL')
    points = IntegerField(default=0)
    note = CharField(max_length=200, default='')
    at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = 'reward_entry'


def up(database, migrator):
    for model in (CampaignCourse, Reward, RewardEntry):
        model._meta.set_database(database)
    database.create_tables([CampaignCourse, Reward, RewardEntry])
    migrate(migrator.add_column('campaign', 'tiers', TextField(null=True)),
            migrator.add_column('campaign', 'reward', TextField(null=True)),
            migrator.add_column('campaign', 'band_low_fen', IntegerField(null=True)),
            migrator.add_column('campaign', 'band_high_fen', IntegerField(null=True)),
            migrator.add_column('group', 'leader_price_fen', IntegerField(null=True)),
            migrator.add_column('group', 'tiers', TextField(null=True)),
            migrator.add_column('order', 'discount_fen', IntegerField(default=0)),
            migrator.add_column('order', 'coupon_id', IntegerField(null=True)),
            migrator.drop_index('refund', 'refund_order_id'),
            migrator.add_index('refund', ('order_id', 'reason'), True))
