"""`GET /api/groups/<share_code>/events`: Server-Sent Events for the live group page.

`snapshot` on connect, then `member_joined`, `seat_reserved`, `seat_released`, `group_formed`,
`group_succeeded`, `group_failed`, `group_cancelled` as they happen, each with `server_time`,
the counts and the member delta; `heartbeat` every LIVE_HEARTBEAT_S (15 s) so proxies keep the
line open and countdowns stay synced. A client that reconnects with `Last-Event-ID` gets what it
missed from the group's short history, or a fresh snapshot when that is too old. Works for
`EventSource` and for the mini-program's `wx.request({enableChunked: true})`.
"""
import os
import queue

from flask import Blueprint, Response, current_app, request

from groupbuy import groups, live_events
from groupbuy.clock import iso

from .live_hub import LiveHub
from .presenters import group_json
from .runtime import deps

bp = Blueprint('live_stream', __name__)


def hub() -> LiveHub:
    ext = current_app.extensions
    if 'pinke_live_hub' not in ext:
        d = deps()
        ext['pinke_live_hub'] = LiveHub(d.redis, d.key_prefix)
    return ext['pinke_live_hub']


sse = LiveHub.frame


@bp.get('/api/groups/<share_code>/events')
def group_events(share_code: str):
    d = deps()
    group = groups.find_group(share_code[:32])
    code = group.share_code
    raw_last = request.headers.get('Last-Event-ID') or request.args.get('last_event_id') or ''
    inbox = hub().subscribe(code)  # before reading the past: nothing falls in between
    missed = None
    if raw_last.isdigit():
        missed = live_events.history_since(d.redis, d.key_prefix, code, int(raw_last))
    first: list[str]
    if missed is None:
        current = live_events.last_id(d.redis, d.key_prefix, code)
        first = [sse(current, 'snapshot', group_json(group, d.now()))]
        sent = current
    else:
        first = [sse(e['id'], e['type'], e) for e in missed]
        sent = missed[-1]['id'] if missed else int(raw_last)
    heartbeat_s = float(os.environ.get('LIVE_HEARTBEAT_S', '15'))
    now = d.now

    def stream():
        last_sent = sent
        try:
            yield 'retry: 2000\n\n'
            yield from first
            while True:
                try:
                    event_id, frame = inbox.get(timeout=heartbeat_s)
                except queue.Empty:
                    yield sse(None, 'heartbeat', {'server_time': iso(now())})
                    continue
                if getattr(inbox, 'stalled', False):
                    return  # events were dropped for this slow client: end; it reconnects with Last-Event-ID
                if event_id <= last_sent:
                    continue  # already sent from the history
                last_sent = event_id
                yield frame
        finally:
            hub().unsubscribe(code, inbox)

    app = current_app._get_current_object()

    def stream_in_app():
        with app.app_context():
            yield from stream()

    return Response(stream_in_app(), mimetype='text/event-stream',
                    headers={'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no'})
