"""The public shape of a room, a post and a question: what the API answers, the H5 page renders and every
live event carries. Public data only — nicknames and avatars, never openids, user ids or operator accounts."""
from urllib.parse import urlsplit

from .. import errors
from ..clock import iso
from ..models import LiveRoom, RoomPost, RoomQuestion
from ..wording import beijing_time


def stream_kind(url: str) -> str:
    """'hls' (an https .m3u8 URL: the H5 page plays it in <video>), 'live_player' (rtmp:// or an https .flv
    URL: the mini-program's <live-player>), or 'none' for ''. Raises InvalidInput for anything else."""
    if not url:
        return 'none'
    parts = urlsplit(url)
    path = parts.path.lower()
    if parts.scheme == 'https' and parts.netloc and path.endswith('.m3u8'):
        return 'hls'
    if (parts.scheme == 'rtmp' and parts.netloc) or (parts.scheme == 'https' and parts.netloc
                                                     and path.endswith('.flv')):
        return 'live_player'
    raise errors.InvalidInput('stream_url: an https .m3u8 (HLS) URL, or a live-player URL (rtmp://, https ….flv)',
                              field='stream_url')


def room_json(room: LiveRoom) -> dict:
    return {'id': room.id, 'campaign_id': room.campaign_id, 'title': room.title, 'status': room.status,
            'starts_at': iso(room.starts_at), 'starts_text': beijing_time(room.starts_at), 'ends_at': iso(room.ends_at),
            'stream': {'url': room.stream_url, 'kind': stream_kind(room.stream_url)},
            'opened_at': iso(room.opened_at), 'closed_at': iso(room.closed_at)}


def post_json(post: RoomPost) -> dict:
    return {'id': post.id, 'kind': post.kind, 'author': post.author, 'body': post.body,
            'picture_url': post.picture_url, 'created_at': iso(post.created_at)}


def question_json(q: RoomQuestion, asker=None) -> dict:
    """`asker`: the asking User when already in hand (else read through the row)."""
    asker = asker or q.user
    return {'id': q.id, 'asker': {'nickname': asker.nickname, 'avatar_url': asker.avatar_url}, 'text': q.text,
            'answer': q.answer, 'answered_by': q.answered_by, 'answered_at': iso(q.answered_at),
            'pinned': q.pinned, 'public': is_public(q), 'created_at': iso(q.created_at)}


def is_public(q: RoomQuestion) -> bool:
    """A question shows once staff answered or pinned it, and never after it is hidden."""
    return not q.hidden and (q.answer is not None or q.pinned)
