"""The Redis seat ledger decides races atomically (real Redis)."""
from concurrent.futures import ThreadPoolExecutor

from groupbuy.deadline_index import DeadlineIndex
from groupbuy.seat_ledger import LedgerSeat, SeatLedger


def test_many_parallel_reservations_never_exceed_the_free_seats(redis_client, key_prefix):
    ledger = SeatLedger(redis_client, key_prefix)
    ledger.restore(1, 5, 'open', 10_000, [LedgerSeat(99, True)])
    with ThreadPoolExecutor(32) as pool:
        verdicts = list(pool.map(lambda u: ledger.reserve(1, u, 1_000, 2_000), range(100, 300)))
    assert verdicts.count('ok') == 4 and verdicts.count('full') == 196


def test_an_expired_reservation_frees_its_seat_but_a_paid_one_never_does(redis_client, key_prefix):
    ledger = SeatLedger(redis_client, key_prefix)
    ledger.restore(1, 2, 'open', 0, [LedgerSeat(1, True), LedgerSeat(2, False, until_ms=500)])
    assert ledger.reserve(1, 3, 400, 900) == 'full'
    assert ledger.reserve(1, 3, 600, 900) == 'ok'
    assert ledger.release(1, 1) is False  # paid stays
    assert ledger.reserve(1, 3, 700, 900) == 'already'


def test_restore_never_overwrites_what_redis_already_knows(redis_client, key_prefix):
    ledger = SeatLedger(redis_client, key_prefix)
    assert ledger.restore(7, 3, 'open', 0, []) is True
    assert ledger.reserve(7, 1, 0, 10_000) == 'ok'
    assert ledger.restore(7, 3, 'open', 0, []) is False
    assert ledger.seats(7) == {1: 'r:10000'}


def test_closed_or_past_deadline_groups_take_no_one(redis_client, key_prefix):
    ledger = SeatLedger(redis_client, key_prefix)
    ledger.restore(1, 3, 'pending', 0, [])
    ledger.restore(2, 3, 'open', 1_000, [])
    assert ledger.reserve(1, 5, 0, 100) == 'closed'
    assert ledger.reserve(2, 5, 1_000, 2_000) == 'closed'
    assert ledger.reserve(3, 5, 0, 100) == 'unknown'


def test_each_due_item_is_claimed_by_exactly_one_scheduler(redis_client, key_prefix):
    index = DeadlineIndex(redis_client, key_prefix)
    for i in range(500):
        index.schedule('settle', i, 1_000 + i)
    index.schedule('settle', 9999, 10 ** 12)
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: index.claim_due(5_000, limit=50), range(30)))
    claimed = [item for batch in claims for item in batch]
    assert len(claimed) == 500 and len(set(claimed)) == 500
    assert index.size() == 1
