"""After-commit Redis writes sent in one round trip.

A join's commit is followed by two Redis writes nobody waits for the answer of — the seat's pay window in the
deadline index and the live event — and each round trip cost a join about 5 % of its CPU in redis-py. Inside
`batched(client)` those writes (`DeadlineIndex.schedule`, `live_events.publish`) queue on a pipeline (no MULTI: each
stands alone) that is sent when the block ends. A script Redis no longer knows (restarted, flushed) is sent again
on its own; any other failure is logged, like any after-commit action's (the sweeper redoes what it lost). Not on
a Redis Cluster: its writes here go to different slots."""
import contextvars
import logging
from contextlib import contextmanager

from redis.cluster import RedisCluster
from redis.exceptions import NoScriptError

log = logging.getLogger(__name__)
_current = contextvars.ContextVar('pinke_redis_batch', default=None)


class Batch:
    def __init__(self, client):
        self.client = client
        self.pipe = client.pipeline(transaction=False)
        self.scripts: dict[int, tuple] = {}  # position in the pipeline -> (script, keys, args)

    def run_script(self, script, keys: list, args: list) -> None:
        self.scripts[len(self.pipe)] = (script, keys, args)
        self.pipe.evalsha(script.sha, len(keys), *keys, *args)  # not script(client=pipe): that asks SCRIPT EXISTS

    def send(self) -> None:
        if not len(self.pipe):
            return
        answers = self.pipe.execute(raise_on_error=False)
        for position, answer in enumerate(answers):
            if position in self.scripts and isinstance(answer, NoScriptError):
                script, keys, args = self.scripts[position]
                script(keys=keys, args=args, client=self.client)  # loads it, runs it
            elif isinstance(answer, Exception):
                raise answer


def pending(client) -> Batch | None:
    """The open batch for this Redis client, if the caller is inside `batched(client)`."""
    batch = _current.get()
    return batch if batch is not None and batch.client is client else None


@contextmanager
def batched(client):
    if client is None or isinstance(client, RedisCluster) or _current.get() is not None:
        yield
        return
    batch = Batch(client)
    token = _current.set(batch)
    try:
        yield
    finally:
        _current.reset(token)
        try:
            batch.send()
        except Exception:  # noqa: BLE001 — recovered by the sweeper, as any after-commit action
            log.exception('after-commit Redis writes failed; the sweeper will redo them')
