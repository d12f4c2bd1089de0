"""The seat ledger: which seats of a group are taken, decided atomically in Redis (DESIGN.md §4).

A hot group gets hundreds of taps for its last seat; one Lua script per decision keeps that race
out of the database. The database stays the truth: `restore` rebuilds a group from its Seat rows
whenever Redis has forgotten it (restart, flush), and every payment is checked again in the DB.

Keys of one group share the hash tag {g:<id>} so the scripts also run on Redis Cluster.
meta: size, state (pending|open|closed), deadline_ms.  seats: user_id -> 'p' | 'r:<until_ms>'.
"""
from dataclasses import dataclass

from redis.cluster import RedisCluster

RESERVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
local now = tonumber(ARGV[2])
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then return 'closed' end
local deadline = tonumber(redis.call('HGET', KEYS[1], 'deadline_ms') or '0')
if deadline > 0 and now >= deadline then return 'closed' end
local size = tonumber(redis.call('HGET', KEYS[1], 'size'))
local entries = redis.call('HGETALL', KEYS[2])
local taken = 0
for i = 1, #entries, 2 do
  local who, v = entries[i], entries[i + 1]
  local live = (v == 'p') or (tonumber(string.sub(v, 3)) > now)
  if who == ARGV[1] then
    if live then return 'already' end
  elseif live then
    taken = taken + 1
  else
    redis.call('HDEL', KEYS[2], who)
  end
end
if taken >= size then return 'full' end
redis.call('HSET', KEYS[2], ARGV[1], 'r:' .. ARGV[3])
return 'ok'
"""

# Drop a reservation, but never a paid seat, and never a newer reservation of the same user.
RELEASE = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and v ~= 'p' and (ARGV[2] == '' or v == 'r:' .. ARGV[2]) then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
"""

# Write a whole group only if Redis does not know it, so two restorers cannot undo a reservation.
RESTORE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'size', ARGV[1], 'state', ARGV[2], 'deadline_ms', ARGV[3])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
"""

# One person's two accounts were merged: their entry moves to the surviving user id.
MOVE = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], v)
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""


@dataclass(frozen=True)
class LedgerSeat:
    user_id: int
    paid: bool
    until_ms: int = 0


class SeatLedger:
    """Redis side of the seats of every live group."""

    def __init__(self, redis, prefix: str):
        self.redis = redis
        self.prefix = prefix
        self._reserve = redis.register_script(RESERVE)
        self._release = redis.register_script(RELEASE)
        self._restore = redis.register_script(RESTORE)

    def _keys(self, group_id: int) -> list[str]:
        tag = f'{self.prefix}{{g:{group_id}}}'
        return [f'{tag}:meta', f'{tag}:seats']

    def reserve(self, group_id: int, user_id: int, now_ms: int, until_ms: int) -> str:
        """'ok', 'full', 'already', 'closed', or 'unknown' (Redis lost the group: restore, then retry)."""
        result = self._reserve(keys=self._keys(group_id), args=[user_id, now_ms, until_ms])
        return result.decode() if isinstance(result, bytes) else result

    def release(self, group_id: int, user_id: int, until_ms: int | None = None) -> bool:
        return bool(self._release(keys=self._keys(group_id)[1:],
                                  args=[user_id, '' if until_ms is None else until_ms]))

    def mark_paid(self, group_id: int, user_id: int) -> None:
        self.redis.hset(self._keys(group_id)[1], user_id, 'p')

    def set_state(self, group_id: int, state: str, deadline_ms: int = 0) -> None:
        meta, _ = self._keys(group_id)
        if self.redis.exists(meta):
            self.redis.hset(meta, mapping={'state': state, 'deadline_ms': deadline_ms})

    def restore(self, group_id: int, size: int, state: str, deadline_ms: int,
                seats: list[LedgerSeat]) -> bool:
        """Write the group from the database unless Redis already has it. True if written."""
        args: list = [size, state, deadline_ms]
        for s in seats:
            args += [s.user_id, 'p' if s.paid else f'r:{s.until_ms}']
        return bool(self._restore(keys=self._keys(group_id), args=args))

    def move_user(self, group_id: int, from_user_id: int, to_user_id: int) -> bool:
        """Hand a seat entry to another user id (accounts merged). True if there was one."""
        return bool(self.redis.register_script(MOVE)(keys=self._keys(group_id)[1:],
                                                      args=[from_user_id, to_user_id]))

    def restore_many(self, groups: list[tuple[int, int, str, int, list[LedgerSeat]]], chunk: int = 500) -> None:
        """`restore` for many groups, pipelined: (group_id, size, state, deadline_ms, seats). A Redis Cluster
        client pipelines no scripts (the groups' keys sit on different nodes): there, one call per group."""
        if isinstance(self.redis, RedisCluster):
            for group in groups:
                self.restore(*group)
            return
        for i in range(0, len(groups), chunk):
            with self.redis.pipeline(transaction=False) as pipe:
                for group_id, size, state, deadline_ms, seats in groups[i:i + chunk]:
                    args: list = [size, state, deadline_ms]
                    for s in seats:
                        args += [s.user_id, 'p' if s.paid else f'r:{s.until_ms}']
                    self._restore(keys=self._keys(group_id), args=args, client=pipe)
                pipe.execute()

    def forget(self, group_id: int) -> None:
        self.redis.delete(*self._keys(group_id))

    def seats(self, group_id: int) -> dict[int, str]:
        raw = self.redis.hgetall(self._keys(group_id)[1])
        return {int(k): v.decode() for k, v in raw.items()}
