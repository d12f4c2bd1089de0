"""Statements built once (groupbuy/prepared.py) run exactly the SQL peewee builds afresh for the same values,
and give the same rows, on SQLite and PostgreSQL."""
import datetime as dt

import pytest
from peewee import SqliteDatabase

from groupbuy import accounts, catalog, groups, members, prepared, progress
from groupbuy.models import CampaignVariant, Group, Order, RiskCheck, User, db
from groupbuy.prepared import Prepared
from tests.integration.test_group_lifecycle import open_and_form
from tests.support.builders import campaign, user


def test_the_join_s_prepared_reads_are_the_statements_peewee_builds(deps):
    group = open_and_form(deps, campaign(group_size=3), user())
    joiner = user()
    groups.join_group(deps, joiner, group.share_code, '127.0.0.1')
    cases = [(progress._BY_ID, dict(group_id=group.id)), (progress._BY_CODE, dict(share_code=group.share_code)),
             (groups._GROUP_BY_CODE, dict(share_code=group.share_code)), (members._PAID, dict(group_id=group.id)),
             (accounts._BY_ID, dict(user_id=joiner.id)), (catalog._VARIANTS, dict(campaign_id=group.campaign_id)),
             (groups._GROUP_FOR_JOINER, dict(share_code=group.share_code, user_id=joiner.id)),
             (groups._GROUP_FOR_JOINER, dict(share_code=group.share_code, user_id=user().id))]
    for name, weight in (('b', 1), ('a', 3)):  # the join's answer lists them, in the order they were made
        CampaignVariant.create(campaign=group.campaign_id, name=name, weight=weight, group_size=3, duration_s=600,
                               group_price_fen=900)
    cases += [(statement, dict(user_id=joiner.id, course_id=group.campaign.course_id, campaign_id=group.campaign_id,
                               **({'group_id': group.id} if in_group else {})))
              for (_, in_group), statement in groups._MAY_BUY.items()]
    for statement, values in cases:
        assert _filled(*statement.sql(**values)) == _filled(*statement.build(**values).sql())
        assert [_plain(r) for r in statement.rows(**values)] == [_plain(r) for r in statement.build(**values)]


def _filled(sql: str, params: list) -> str:
    """A statement with each parameter written in where it is bound: the same text whether a value was bound or
    (SQLite, prepared.inline_constants) written in."""
    if not isinstance(db.obj, SqliteDatabase):
        return sql % tuple(repr(p) for p in params)
    pieces = sql.split('?')
    assert len(pieces) == len(params) + 1
    return pieces[0] + ''.join((repr(p) if type(p) is not int else str(p)) + rest for p, rest in zip(params, pieces[1:]))


def test_sqlite_gets_a_statement_s_constants_written_in_and_binds_the_rest():
    sql, params = prepared.inline_constants('SELECT 1 FROM "t" WHERE a = ? AND s IN (?, ?) AND n = ? AND d = ? LIMIT ?',
                                            [prepared._Slot('a'), 'paid', "it's", True, 'x y', 1])
    assert sql == 'SELECT 1 FROM "t" WHERE a = ? AND s IN (\'paid\', ?) AND n = ? AND d = ? LIMIT 1'
    assert params == ['a', "it's", True, 'x y']
    assert prepared.inline_constants("SELECT '?' WHERE a = ?", ['paid']) == ("SELECT '?' WHERE a = ?", ['paid'])


def test_the_may_buy_read_is_not_prepared_again_on_every_run(deps):
    """SQLite re-prepares a statement whose plan read a bound value: the join's hottest read did, every time."""
    if not isinstance(db.obj, SqliteDatabase):
        pytest.skip('SQLite only: PostgreSQL gets its parameters written in by the driver')
    group = open_and_form(deps, campaign(group_size=3), user())
    statement = groups._MAY_BUY[True, True]
    sql, params = statement.sql(user_id=group.leader_id, course_id=group.campaign.course_id,
                                campaign_id=group.campaign_id, group_id=group.id)
    assert '?' not in sql.split('IN (', 1)[1].split(')', 1)[0]  # the live statuses are literals
    assert len(params) == sql.count('?')


def _plain(row) -> dict:
    """A row's model, values and changed-since-read marks, with those of the models joined to it (the group's
    campaign, a seat's user, ...)."""
    if isinstance(row, (dict, tuple)):
        return row
    return {'__class__': type(row), '__dirty__': set(row._dirty), **row.__data__,
            **{name: _plain(joined) for name, joined in row.__rel__.items()}}


def test_a_prepared_read_answers_what_the_fresh_query_answers(deps):
    group = open_and_form(deps, campaign(group_size=4), user())
    groups.join_group(deps, user(), group.share_code, '127.0.0.1')
    fresh = progress.from_row(progress.query().where(Group.id == group.id).first())
    assert progress.progress_of_group(group.id) == fresh == progress.progress_of(group.share_code)
    assert (fresh.paid, fresh.reserved) == (1, 1)
    found = groups.find_group(group.share_code)
    assert (found.id, found.campaign.id, found.campaign.course.title) == (
        group.id, group.campaign_id, group.campaign.course.title)


def test_a_value_peewee_would_change_beyond_recognition_is_refused(deps):
    when = Prepared(lambda at: User.select().where(User.created_at <= at.date()), at=dt.datetime)
    with pytest.raises(RuntimeError, match='not found in the statement'):
        when.sql(at=dt.datetime(2026, 1, 1))


def test_a_prepared_insert_stores_what_model_create_stores(deps):
    group = open_and_form(deps, campaign(group_size=3), user())
    buyer, now = user(), dt.datetime(2026, 11, 27, 12, 30, 15, 250000)
    values = dict(user=buyer, group=group, course=group.campaign.course_id, amount_fen=9900, discount_fen=0,
                  coupon_id=None, status='created', prepay_id=None, created_at=now)
    made = [prepared.create(Order, out_trade_no='PKprepared1', **values),
            Order.create(out_trade_no='PKcreated1', **values)]
    assert ({**_plain(made[0]), 'id': None, 'out_trade_no': None}
            == {**_plain(made[1]), 'id': None, 'out_trade_no': None})  # the instances handed back, joins included
    ours, theirs = (Order.get_by_id(o.id).__data__ for o in made)
    assert made[0].id != made[1].id and ours.pop('id') and theirs.pop('id')
    assert {**ours, 'out_trade_no': None} == {**theirs, 'out_trade_no': None}
    assert ours['created_at'] == now and ours['kind'] == 'group_buy'  # the model's defaults are in it too


def test_a_prepared_insert_keeps_yes_no_columns_apart(deps):
    group = open_and_form(deps, campaign(group_size=3), user())
    made = [prepared.create(RiskCheck, at=dt.datetime(2026, 11, 27), action='join', user=group.leader_id,
                            group=group.id, campaign=group.campaign_id, has_phone=flag, decision='allow')
            for flag in (True, False, True)]
    assert [RiskCheck.get_by_id(r.id).has_phone for r in made] == [True, False, True]
