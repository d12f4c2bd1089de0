"""After-commit Redis writes in one round trip (groupbuy/redis_batch.py): inside `batched`, the deadline index's
and the live events' writes wait for the end of the block and then all land; a script Redis forgot is sent again;
a failed write is logged, never raised into the transition, and the others still land."""
import logging

from groupbuy import live_events
from groupbuy.redis_batch import batched


def test_writes_wait_for_the_end_of_the_block_then_all_land(deps):
    with batched(deps.redis):
        deps.deadlines.schedule('release', 7, 10 ** 12)
        assert live_events.publish(deps, 'batch1', 'seat_reserved', {'n': 1}) is None  # nobody waits for the id
        assert deps.deadlines.due_at('release', 7) is None
        assert live_events.last_id(deps.redis, deps.key_prefix, 'batch1') == 0
    assert deps.deadlines.due_at('release', 7) == 10 ** 12
    assert [e['n'] for e in live_events.history_since(deps.redis, deps.key_prefix, 'batch1', 0)] == [1]
    assert live_events.publish(deps, 'batch1', 'seat_reserved', {'n': 2}) == 2  # outside a batch: at once, numbered


def test_a_script_redis_forgot_is_sent_again(deps):
    live_events.publish(deps, 'batch2', 'seat_reserved', {'n': 1})
    deps.redis.script_flush()  # as after a restart of Redis
    with batched(deps.redis):
        live_events.publish(deps, 'batch2', 'seat_reserved', {'n': 2})
    assert [e['n'] for e in live_events.history_since(deps.redis, deps.key_prefix, 'batch2', 0)] == [1, 2]


def test_a_failed_write_is_logged_not_raised_and_the_others_land(deps, caplog):
    deps.redis.set(deps.deadlines.key, 'not a sorted set')  # every ZADD to it fails (WRONGTYPE)
    try:
        with caplog.at_level(logging.ERROR, logger='groupbuy.redis_batch'):
            with batched(deps.redis):
                deps.deadlines.schedule('release', 8, 10 ** 12)
                live_events.publish(deps, 'batch3', 'seat_reserved', {'n': 1})
        assert 'the sweeper will redo them' in caplog.text
        assert live_events.last_id(deps.redis, deps.key_prefix, 'batch3') == 1
    finally:
        deps.redis.delete(deps.deadlines.key)
