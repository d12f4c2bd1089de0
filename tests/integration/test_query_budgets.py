"""Query budgets (issue 9 §7): the hot operations run a fixed number of SQL statements, whatever the
data, on SQLite and PostgreSQL alike. A budget that grows fails here; lower it when a change cuts one.
Counted from peewee's own log of the statements it executes (tests/support/statements.py)."""
import pytest

from groupbuy import groups, settlement
from groupbuy.models import Order
from tests.integration.test_group_lifecycle import open_and_form
from tests.integration.test_user_tokens import token_for
from tests.support.builders import campaign, pay, user
from tests.support.statements import counted

JOIN_BUDGET = 8  # the group with the joiner's counts (the check before anything is taken); the risk history;
# the check again under the user's lock; order, seat, the risk decision, event; the progress
# (read after commit, once, for the live event and the joiner's answer)
# the order; the group locked; paid; its seat; the seat's facts; seat paid; first payment; the progress;
# the joiner (the live avatar); the event; the others to tell; their messages; the messages to send;
# after commit, the open group's progress for the live page (groupbuy/subscribers.py: Live)
MEMBER_PAYMENT_BUDGET = 14
SETTLE_FAILED_BUDGET = 9
ORDERS_LISTING_BUDGET = 2  # the token's user; the orders with their groups and refunds; nothing per order


def test_a_join_runs_at_most_eight_statements_in_one_write_transaction(deps):
    group = open_and_form(deps, campaign(group_size=3), user())
    joiner = user()
    with counted() as seen:
        groups.join_group(deps, joiner, group.share_code, '127.0.0.1')
    assert len(seen.queries) == JOIN_BUDGET <= 8, seen.queries
    assert [s.split()[0] for s in seen.writes] == ['INSERT'] * 4  # order, seat, risk decision, event: one transaction
    assert deps.gateway.prepays[-1]['out_trade_no'] == Order.get(Order.user == joiner.id).out_trade_no


def test_a_join_costs_the_same_in_a_group_with_more_members(deps):
    c = campaign(group_size=6)
    group = open_and_form(deps, c, user())
    for _ in range(3):
        groups.join_group(deps, user(), group.share_code, '127.0.0.1')
    joiner = user()
    with counted() as seen:
        groups.join_group(deps, joiner, group.share_code, '127.0.0.1')
    assert len(seen.queries) == JOIN_BUDGET


@pytest.mark.parametrize('members', [1, 4])
def test_a_member_payment_costs_the_same_whatever_the_group_holds(deps, members):
    c = campaign(group_size=members + 2)
    group = open_and_form(deps, c, user())
    checkouts = [groups.join_group(deps, user(), group.share_code, '127.0.0.1') for _ in range(members)]
    for checkout in checkouts[:-1]:
        pay(deps, checkout.order)
    with counted() as seen:
        assert pay(deps, checkouts[-1].order) == 'seated'
    assert len(seen.queries) == MEMBER_PAYMENT_BUDGET, seen.queries


@pytest.mark.parametrize('members', [0, 3])
def test_settling_a_failed_group_costs_the_same_whatever_its_size(deps, clock, members):
    c = campaign(group_size=members + 2)
    group = open_and_form(deps, c, user())
    for _ in range(members):
        pay(deps, groups.join_group(deps, user(), group.share_code, '127.0.0.1').order)
    clock.advance(c.duration_s + 1)
    with counted() as seen:
        assert settlement.settle_group(deps, group.id) == 'failed'
    assert len(seen.queries) == SETTLE_FAILED_BUDGET, seen.queries


@pytest.mark.parametrize('orders', [1, 6])
def test_listing_my_orders_costs_the_same_for_one_order_or_many(deps, make_app, clock, orders):
    buyer = user()
    for _ in range(orders):  # each a failed group: a refund to show, and the course free to buy again
        c = campaign(group_size=2)
        opened = groups.open_group(deps, buyer, c.id, '127.0.0.1')
        pay(deps, opened.order)
        clock.advance(c.duration_s + 1)
        settlement.settle_group(deps, opened.group.id)
    app = make_app()
    client, token = app.test_client(), token_for(app, buyer)
    with counted() as seen:
        answer = client.get('/api/me/orders', headers={'Authorization': f'Bearer {token}'})
    listed = answer.get_json()['orders']
    assert len(listed) == orders and all(o['refund']['reason'] == 'group_failed' for o in listed)
    assert len(seen.queries) == ORDERS_LISTING_BUDGET, seen.queries
