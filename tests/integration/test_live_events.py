"""Live events: numbered per group, kept briefly for catch-up, fanned out by one subscription."""

from groupbuy import live_events
from miniapp_api.live_hub import LiveHub


def test_events_are_numbered_and_a_reconnect_gets_exactly_what_it_missed(deps):
    ids = [live_events.publish(deps, 'abc', 'member_joined', {'paid_count': n}) for n in range(1, 6)]
    assert ids == [1, 2, 3, 4, 5]
    missed = live_events.history_since(deps.redis, deps.key_prefix, 'abc', 2)
    assert [(e['id'], e['paid_count']) for e in missed] == [(3, 3), (4, 4), (5, 5)]
    assert live_events.history_since(deps.redis, deps.key_prefix, 'abc', 5) == []
    assert live_events.history_since(deps.redis, deps.key_prefix, 'abc', 99) is None  # numbering restarted


def test_a_client_older_than_the_history_is_told_to_take_a_snapshot(deps):
    for n in range(live_events.HISTORY + 10):
        live_events.publish(deps, 'hot', 'seat_reserved', {'n': n})
    assert live_events.history_since(deps.redis, deps.key_prefix, 'hot', 3) is None
    recent = live_events.history_since(deps.redis, deps.key_prefix, 'hot', live_events.HISTORY + 5)
    assert [e['id'] for e in recent] == list(range(live_events.HISTORY + 6, live_events.HISTORY + 11))


def test_one_hub_subscription_reaches_every_listener_of_a_group_and_no_other(deps):
    hub = LiveHub(deps.redis, deps.key_prefix)
    a, b, other = hub.subscribe('g1'), hub.subscribe('g1'), hub.subscribe('g2')
    live_events.publish(deps, 'g1', 'member_joined', {'member': {'nickname': '小明'}})
    got = [q.get(timeout=2) for q in (a, b)]
    assert got[0] == got[1] and got[0][0] == 1
    assert got[0][1].startswith('id: 1\nevent: member_joined\ndata: ') and '小明' in got[0][1]
    # Redis delivers one subscription's messages in order: if g1's event had reached `other`, it
    # would come before g2's own event, which is the explicit signal that g1's is not coming.
    live_events.publish(deps, 'g2', 'seat_reserved', {'n': 1})
    assert 'event: seat_reserved' in other.get(timeout=2)[1]
    assert other.empty()
    hub.unsubscribe('g1', a)
    assert hub.listener_count() == 2
    hub.stop()  # the listener ends (an app torn down): no thread left retrying a Redis that goes away
    assert not hub._thread.is_alive()
