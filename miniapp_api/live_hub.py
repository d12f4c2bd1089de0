"""One Redis subscription per web process, fanned out to every open event stream in it.

Thousands of viewers of one hot group cost one Redis connection per process, not one each.
The listener is a thread (a greenlet under gunicorn's gevent workers), started on first use,
so nothing connects at import or in a process that never streams.

On a Redis Cluster the same code holds redis-py's cluster pub/sub: one connection to one master (the
pattern's slot picks it), which hears every classic PUBLISH, since a cluster broadcasts them to all nodes.
"""
import json
import logging
import queue
import threading
from collections import defaultdict

log = logging.getLogger(__name__)


class LiveHub:
    def __init__(self, redis, prefix: str):
        self.redis = redis
        self.channel_prefix = f'{prefix}live:'
        self.listeners: dict[str, set[queue.Queue]] = defaultdict(set)
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self._thread = None
        self._stopping = threading.Event()
        self._pubsub = None

    def subscribe(self, share_code: str) -> queue.Queue:
        """A queue that receives every event of the group from now on, as (event id, SSE frame)."""
        inbox: queue.Queue = queue.Queue(maxsize=1000)
        with self.lock:
            self.listeners[share_code].add(inbox)
            if self._thread is None:
                self._thread = threading.Thread(target=self._listen, name='live-hub', daemon=True)
                self._thread.start()
        self.ready.wait(5)
        return inbox

    def unsubscribe(self, share_code: str, inbox: queue.Queue) -> None:
        with self.lock:
            self.listeners[share_code].discard(inbox)
            if not self.listeners[share_code]:
                del self.listeners[share_code]

    def listener_count(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.listeners.values())

    def stop(self) -> None:
        """End the listener (an app torn down while Redis goes away, as at the end of a test run: without this
        the thread kept reconnecting to a Redis that was gone, and said so on every try)."""
        self._stopping.set()
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                pubsub.close()  # wakes `listen`, which then ends quietly
            except Exception:  # noqa: BLE001 — closing a connection already broken
                pass
        if self._thread is not None:
            self._thread.join(5)

    def _listen(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                self._pubsub = pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(self.channel_prefix + '*')
                pubsub.get_message(timeout=1)  # the subscribe confirmation: we are listening
                self.ready.set()
                backoff = 0.5
                for message in pubsub.listen():
                    if message['type'] == 'pmessage':
                        self._deliver(message['channel'].decode()[len(self.channel_prefix):], message['data'])
            except Exception:  # noqa: BLE001 — Redis restarting: reconnect; clients catch up by Last-Event-ID
                if self._stopping.is_set():
                    return
                log.exception('live hub lost Redis; reconnecting')
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 10)

    def _deliver(self, share_code: str, data: bytes) -> None:
        with self.lock:
            targets = list(self.listeners.get(share_code, ()))
        if not targets:
            return
        event = json.loads(data)
        frame = (event['id'], self.frame(event['id'], event['type'], event))  # formatted once for every stream
        for inbox in targets:
            try:
                inbox.put_nowait(frame)
            except queue.Full:
                inbox.stalled = True  # a client this far behind is told to resync (see live_stream)

    @staticmethod
    def frame(event_id, kind: str, data: dict) -> str:
        head = f'id: {event_id}\n' if event_id is not None else ''
        return f'{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, separators=(",", ":"))}\n\n'
