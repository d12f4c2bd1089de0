"""`GET /api/groups/<share_code>/events`: Server-Sent Events for the live group page (and, through
`event_stream`, for a warm-up live room: miniapp_api/rooms.py).

`snapshot` on connect, then `member_joined`, `seat_reserved`, `seat_released`, `group_formed`,
`group_succeeded`, `group_failed`, `group_cancelled`, `group_in_review` as they happen, each with `server_time`,
the counts and the member delta; `heartbeat` every LIVE_HEARTBEAT_S (15 s) so proxies keep the
line open and countdowns stay synced. A client that reconnects with `Last-Event-ID` gets what it
missed from the group's short history, or a fresh snapshot when that is too old. Works for
`EventSource` and for the mini-program's `wx.request({enableChunked: true})`.
"""
import queue

from flask import Blueprint, Response, current_app, request

from groupbuy import groups, live_events
from groupbuy.clock import iso
from groupbuy.models import db

from . import metrics
from .live_hub import LiveHub
from .presenters import group_json
from .runtime import deps, runtime

bp = Blueprint('live_stream', __name__)


def hub() -> LiveHub:
    ext = current_app.extensions
    if 'pinke_live_hub' not in ext:
        d = deps()
        ext['pinke_live_hub'] = LiveHub(d.redis, d.key_prefix)
    return ext['pinke_live_hub']


sse = LiveHub.frame


def last_seen_id(raw: str) -> int | None:
    """The event id a reconnecting client last saw, or None (it gets a snapshot) for anything that is not
    one of ours: ids are small non-negative integers, and EventSource stops reconnecting after an error."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def _snapshot(code: str, now) -> dict:
    """The group as it is now."""
    return group_json(groups.find_group(code), now)


def _with_db(snapshot, now) -> dict:
    """The stream runs after the request's database connection was closed: this opens one (and closes it)
    unless one is open."""
    opened = db.connect(reuse_if_open=True)
    try:
        return snapshot(now)
    finally:
        if opened:
            db.close()


@bp.get('/api/groups/<share_code>/events')
def group_events(share_code: str):
    code = groups.find_group(share_code[:32]).share_code  # an unknown group is a 404 before any stream
    return event_stream(code, lambda now: _snapshot(code, now))


def event_stream(topic: str, snapshot, replay: bool = True) -> Response:
    """The SSE response for one live topic (a group's share code, or a room's `live_events.room_topic`):
    subscribe, then the missed events after Last-Event-ID or `snapshot(now)` (called with a database
    connection open), then live events and heartbeats. `replay=False`: a reconnecting client always gets a fresh
    snapshot, never the history (a room's history keeps posts a moderator hid since)."""
    last_seen = last_seen_id(request.headers.get('Last-Event-ID') or request.args.get('last_event_id') or '')
    heartbeat_s = runtime().settings.live_heartbeat_s

    def stream():
        """Subscribes when the server starts sending, and the `finally` covers everything after it, so
        a response that is never sent or fails half-way holds no subscription."""
        d = deps()
        inbox = hub().subscribe(topic)  # before reading the past: nothing falls in between
        open_stream = metrics.stream_opened(topic)
        try:
            missed = None if last_seen is None or not replay else live_events.history_since(d.redis, d.key_prefix, topic,
                                                                               last_seen)
            if missed is None:
                last_sent = live_events.last_id(d.redis, d.key_prefix, topic)
                first = [sse(last_sent, 'snapshot', _with_db(snapshot, d.now()))]
            else:
                first = [sse(e['id'], e['type'], e) for e in missed]
                last_sent = missed[-1]['id'] if missed else last_seen
            yield 'retry: 2000\n\n'
            yield from first
            while True:
                try:
                    event_id, frame = inbox.get(timeout=heartbeat_s)
                except queue.Empty:
                    yield sse(None, 'heartbeat', {'server_time': iso(d.now())})
                    continue
                if getattr(inbox, 'stalled', False):
                    return  # events were dropped for this slow client: end; it reconnects with Last-Event-ID
                if event_id <= last_sent:
                    continue  # already sent from the history
                last_sent = event_id
                yield frame
        finally:
            hub().unsubscribe(topic, inbox)
            open_stream.dec()

    app = current_app._get_current_object()

    def stream_in_app():
        with app.app_context():
            yield from stream()

    return Response(stream_in_app(), mimetype='text/event-stream',
                    headers={'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no'})
