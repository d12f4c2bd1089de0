"""Live group events for every member's screen (DESIGN.md §8): each transition publishes a small
public JSON event on the group's Redis channel, numbered per group and kept in a short history,
so any web process can stream it and a client that reconnects gets what it missed.

Public data only: nicknames, avatars, roles, counts and times — never openids or order data.

A channel is a *topic*: a group's share code, or `room:<id>` for a warm-up live room (`room_topic`). Share
codes are letters, digits, '-' and '_', so the two never collide, and the history, the numbering, the hub
and Last-Event-ID catch-up serve both unchanged.
"""
import json
import weakref

from . import tiers
from .clock import iso
from .models import User
from .redis_batch import pending
from .progress import Progress

HISTORY = 200  # events kept per group for Last-Event-ID catch-up
HISTORY_TTL_S = 7 * 24 * 3600

# Append to the history and publish in one step, so ids and order agree everywhere. The channel is an ARGV, not a
# key: a channel is no key, and the two keys share the {live:<topic>} tag, so on a Redis Cluster the script runs on
# that slot's node (a cluster broadcasts a PUBLISH to every node).
PUBLISH = """
local id = redis.call('INCR', KEYS[1])
local event = string.gsub(ARGV[1], '"id":0', '"id":' .. id, 1)
redis.call('RPUSH', KEYS[2], event)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], event)
return id
"""


_SCRIPTS = weakref.WeakKeyDictionary()  # Redis client -> its PUBLISH Script (registering hashes the text again)


def _publish_script(redis):
    script = _SCRIPTS.get(redis)
    if script is None:
        script = _SCRIPTS[redis] = redis.register_script(PUBLISH)
    return script


def room_topic(room_id: int) -> str:
    """The live topic of a warm-up live room (groupbuy/rooms)."""
    return f'room:{room_id}'


def channel(prefix: str, share_code: str) -> str:
    return f'{prefix}live:{share_code}'


def _keys(prefix: str, share_code: str) -> list[str]:
    tag = f'{prefix}{{live:{share_code}}}'
    return [f'{tag}:seq', f'{tag}:history']


def publish(deps, share_code: str, kind: str, body: dict) -> int | None:
    """Number, remember and broadcast one event. Returns its id; None after a commit, where it goes out with the
    transition's other Redis writes (redis_batch.py) and nobody waits for the id."""
    event = {'id': 0, 'type': kind, 'server_time': iso(deps.now()), **body}
    script = _publish_script(deps.redis)
    keys = _keys(deps.key_prefix, share_code)
    args = [json.dumps(event, ensure_ascii=False, separators=(',', ':')), HISTORY, HISTORY_TTL_S,
            channel(deps.key_prefix, share_code)]
    batch = pending(deps.redis)
    if batch is not None:
        batch.run_script(script, keys, args)
        return None
    return int(script(keys=keys, args=args))


def history_since(redis, prefix: str, share_code: str, last_id: int) -> list[dict] | None:
    """Events after `last_id`, oldest first; None when the history no longer reaches back that far
    (the client should take a fresh snapshot)."""
    seq_key, history_key = _keys(prefix, share_code)
    current = int(redis.get(seq_key) or 0)
    if last_id > current:
        return None  # an id from before a Redis flush restarted the numbering: resync
    events = [json.loads(raw) for raw in redis.lrange(history_key, 0, -1)]
    if not events:
        return [] if last_id == current else None
    if events[0]['id'] > last_id + 1:
        return None
    return [e for e in events if e['id'] > last_id]


def last_id(redis, prefix: str, share_code: str) -> int:
    return int(redis.get(_keys(prefix, share_code)[0]) or 0)


def counts(p: Progress) -> dict:
    """What every event (and the group API) carries, so a client can redraw from any single event."""
    body = {'status': p.status, 'size': p.size, 'paid_count': p.paid, 'reserved_count': p.reserved,
            'seats_left': p.seats_left, 'deadline_at': iso(p.deadline_at)}
    if p.tiers:  # a tiered group: the tier reached and how many more lower the price
        body['tier'] = tiers.view(p.tiers, p.paid)
    return body


def member(user: User, role: str, course_id: int | None = None) -> dict:
    """A member as the avatar row shows them; in a cross-course group, with the course they picked."""
    return member_card(user.nickname, user.avatar_url, role, course_id)


def member_card(nickname: str, avatar_url: str, role: str, course_id: int | None = None) -> dict:
    body = {'nickname': nickname, 'avatar_url': avatar_url, 'role': role}
    if course_id is not None:
        body['course_id'] = course_id
    return body


def announce(deps, p: Progress, kind: str, **extra) -> None:
    """Publish `kind` with the group's progress as of the transition that emitted it."""
    publish(deps, p.share_code, kind, {**counts(p), **extra})
