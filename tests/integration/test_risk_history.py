"""The history statement is built once per shape and reused with each attempt's values: for every shape it
answers exactly what the statement built afresh with those values answers, on SQLite and PostgreSQL."""
import datetime as dt

import pytest

from groupbuy.risk import blocklist, history
from groupbuy.risk.rules import RuleConfig
from groupbuy.risk.signals import Signals
from tests.integration.test_group_lifecycle import open_and_form
from tests.integration.test_rate_limits import join, make  # noqa: F401 — a fixture
from tests.integration.test_user_tokens import token_for
from tests.support.builders import campaign, user

PUBLIC, PRIVATE = '49.7.21.36', '10.1.2.3'


def afresh(at, user_id, group_id, signals, rules, before_id=None) -> dict:
    values = {'at': at, 'abandon_from': at - dt.timedelta(seconds=rules.abandon_window_s),
              'velocity_from': at - dt.timedelta(seconds=rules.velocity_window_s),
              'device_from': at - dt.timedelta(seconds=rules.device_window_s), 'user': user_id,
              'user_text': str(user_id), 'group': group_id, 'device': signals.device, 'network': signals.network,
              'ip': signals.ip, 'before_id': before_id}
    query = history._statement(values, group_id is not None, bool(signals.device),
                               bool(signals.network and signals.public), bool(signals.network), bool(signals.ip),
                               before_id is not None, signals)
    return query.dicts().first() or {}


@pytest.mark.parametrize('with_group', [True, False])
@pytest.mark.parametrize('ip, device', [(PUBLIC, 'dev-' + 'a' * 20), (PRIVATE, 'dev-' + 'a' * 20), (PUBLIC, ''),
                                        ('', '')])
@pytest.mark.parametrize('replaying', [False, True])
def test_the_reused_statement_answers_what_a_fresh_one_does(make, deps, clock, with_group, ip, device, replaying):
    app = make()
    group = open_and_form(deps, campaign(group_size=6), user())
    for n in range(3):  # a history: accounts on this device and network, one of them blocked later
        join(app, token_for(app, user()), group.share_code, device='dev-' + 'a' * 20, address=PUBLIC)
        clock.advance(10)
    blocklist.add('ip', PUBLIC, 'test', clock.now(), by='test')
    who = user()
    rules, signals, at = RuleConfig(), Signals(ip=ip, device=device), clock.now()
    before_id = 2 if replaying else None
    got = history.before(at, 'join', who.id, group.id if with_group else None, signals, rules, before_id)
    row = afresh(at, who.id, group.id if with_group else None, signals, rules, before_id)
    assert got.device_accounts_in_group == int(row.get('device_in_group') or 0)
    assert got.device_accounts == int(row.get('device_accounts') or 0)
    assert got.device_attempts == int(row.get('device_attempts') or 0)
    assert got.network_accounts == int(row.get('network_accounts') or 0)
    assert got.blocklisted == history._matched(row)
    if device and with_group and not replaying:
        assert got.device_accounts_in_group == 1  # the facts are really there (one allowed, two blocked)
    if ip == PUBLIC:
        assert got.blocklisted == ('ip',)
