"""Due times of every timed fact (group deadlines, seat pay windows) in one Redis sorted set.

The scheduler polls `claim_due`; the Lua script removes what it returns, so with several
schedulers each item is claimed once. An item claimed by a process that then dies is found
again by the sweeper (`groupbuy.sweeper`), which reads the database, the source of truth.

An item is `<kind>:<ids>` (`settle:<group>`, `release:<seat>`, `nudge:<group>:<offset>`,
`notify:<notification>`); `item_key` writes one, `claim_due` and `ids_of` read it back. Each kind is
the `deadline_kind` of one job in `groupbuy.job_catalogue`.

One key, so the claim script touches a single slot and runs unchanged on a Redis Cluster (the index then
lives on one master; docs/SCALING.md says why one sorted set is enough and when to shard it).
"""
from . import job_catalogue
from .redis_batch import pending

CLAIM = """
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #items > 0 then redis.call('ZREM', KEYS[1], unpack(items)) end
return items
"""


def item_key(kind: str, *ids) -> str:
    """The item for `kind` work on `ids`, e.g. item_key('nudge', 7, 900) == 'nudge:7:900'. A kind no
    catalogued job handles is refused here rather than claimed and dropped later."""
    if kind not in job_catalogue.deadline_kinds():
        raise ValueError(f'no job handles deadline kind {kind!r} (groupbuy/job_catalogue.py)')
    return ':'.join([kind, *map(str, ids)])


def ids_of(item_id: str) -> tuple[int, ...]:
    """A claimed item's ids as the job's arguments: '7:900' -> (7, 900)."""
    return tuple(int(part) for part in item_id.split(':'))


class DeadlineIndex:
    def __init__(self, redis, prefix: str):
        self.redis = redis
        self.key = f'{prefix}deadlines'
        self._claim = redis.register_script(CLAIM)

    def schedule(self, kind: str, item_id, due_ms: int) -> None:
        """Remember that `kind` work on `item_id` is due at `due_ms` (a later call moves it). After a commit it goes
        out with the transition's other Redis writes (redis_batch.py)."""
        batch = pending(self.redis)
        (batch.pipe if batch else self.redis).zadd(self.key, {item_key(kind, item_id): due_ms})

    def schedule_many(self, due: dict[str, int], chunk: int = 5000) -> None:
        """{item_key(kind, *ids): due_ms} in a few round trips (start-up restore of a busy system). The keys
        come from `item_key`, which has refused unknown kinds already."""
        items = list(due.items())
        for i in range(0, len(items), chunk):
            self.redis.zadd(self.key, dict(items[i:i + chunk]))

    def cancel(self, kind: str, item_id) -> None:
        self.redis.zrem(self.key, item_key(kind, item_id))

    def claim_due(self, now_ms: int, limit: int = 500) -> list[tuple[str, str]]:
        """Take (kind, id) pairs due by now; each is returned to one caller only. Ids come back
        as strings (a nudge's id is '<group>:<offset>')."""
        items = self._claim(keys=[self.key], args=[now_ms, limit])
        out = []
        for raw in items:
            kind, _, item_id = (raw.decode() if isinstance(raw, bytes) else raw).partition(':')
            out.append((kind, item_id))
        return out

    def due_at(self, kind: str, item_id) -> float | None:
        return self.redis.zscore(self.key, item_key(kind, item_id))

    def size(self) -> int:
        return self.redis.zcard(self.key)
