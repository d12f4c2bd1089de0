"""A group's pictures, made when asked and kept in Redis until the group changes.

The cache key carries `Progress.version` (status, paid seats, deadline), so a join or a
settlement makes the next request draw a new poster; old ones expire on their own. It also names
the font (`fonts.font_tag`): a picture drawn with boxes for Chinese (no CJK font, a broken install)
is drawn again once a CJK font is there, never served from the cache.

Covers and avatars are fetched only from `POSTER_IMAGE_HOSTS` (WeChat's avatar CDN, the sandbox),
never from any URL a user typed: the server must not be made to fetch arbitrary addresses.
"""
import datetime as dt
import io
import logging
from urllib.parse import urlsplit

import requests
from PIL import Image

from gateways.wechat_oa import upload_thumb
from gateways.wechat_wxa import wxa_code_png
from groupbuy.progress import Progress
from groupbuy.sharing import status_line
from groupbuy.wording import deadline_text, yuan

from .drawing import PosterContent, draw_card_thumb, draw_poster
from .fonts import cjk_font_path, font_tag

log = logging.getLogger(__name__)
POSTER_TTL_S = 24 * 3600
CODE_TTL_S = 7 * 24 * 3600  # a mini-program code never changes for a scene
THUMB_TTL_S = 2 * 24 * 3600  # WeChat keeps temporary media 3 days
MAX_IMAGE_BYTES = 2 * 1024 * 1024


def scene_for(share_code: str, ref: str | None) -> str:
    """The mini-program code's scene: '<share code>.<sharer ref>', or the share code alone when
    that would pass WeChat's 32 characters. The mini-program splits it on '.'."""
    scene = f'{share_code}.{ref}' if ref else share_code
    return scene if len(scene) <= 32 else share_code


def wxa_code(rt, share_code: str, ref: str | None) -> bytes:
    """PNG of the mini-program code that opens the group. Raises WeChatUnavailable."""
    scene = scene_for(share_code, ref)
    key = f'{rt.settings.key_prefix}wxacode:{scene}'
    cached = rt.redis.get(key)
    if cached:
        return cached
    png = wxa_code_png(rt.wechat_client, scene, rt.settings.miniapp_group_page)
    rt.redis.set(key, png, ex=CODE_TTL_S)
    return png


def poster_words(p: Progress, now: dt.datetime) -> dict[str, str]:
    """The words a group's poster carries, in the wording every other door uses (groupbuy/wording.py)."""
    return {'course_title': p.course_title, 'price': f'¥{yuan(p.price_fen)}',
            'list_price': f'¥{yuan(p.list_price_fen)}', 'leader_name': p.leader_nickname,
            'progress': status_line(p, now),
            'deadline': deadline_text(p.deadline_at) if p.status == 'forming' else ''}


def card_banner(p: Progress, now: dt.datetime) -> str:
    """The band on the card picture: '还差2人 ¥99' while there is room, else '¥99 拼课'."""
    return f'还差{p.seats_left}人 ¥{yuan(p.price_fen)}' if p.joinable(now) else f'¥{yuan(p.price_fen)} 拼课'


def group_poster(rt, p: Progress, ref: str | None, now: dt.datetime) -> bytes:
    font_path, font = _font(rt)
    key = f'{rt.settings.key_prefix}poster:{p.share_code}:{p.version}:{ref or "-"}:{font}'
    cached = rt.redis.get(key)
    if cached:
        return cached
    hosts = _hosts(rt.settings)
    content = PosterContent(**poster_words(p, now), size=p.size, paid=p.paid,
                            code_png=wxa_code(rt, p.share_code, ref), cover=fetch_image(p.cover_url, hosts),
                            avatar=fetch_image(p.leader_avatar_url, hosts), font_path=font_path)
    png = draw_poster(content)
    rt.redis.set(key, png, ex=POSTER_TTL_S)
    return png


def card_png(rt, p: Progress, now: dt.datetime) -> bytes:
    """The 5:4 card picture: the mini-program share card's image and the bot card's thumbnail."""
    font_path, font = _font(rt)
    key = f'{rt.settings.key_prefix}card:{p.share_code}:{p.version}:{font}'
    cached = rt.redis.get(key)
    if cached:
        return cached
    png = draw_card_thumb(fetch_image(p.cover_url, _hosts(rt.settings)), p.course_title, card_banner(p, now),
                          font_path=font_path)
    rt.redis.set(key, png, ex=POSTER_TTL_S)
    return png


def card_thumb_media_id(rt, p: Progress, now: dt.datetime) -> str:
    """media_id of the card picture on the official account, uploaded once per group version.
    Raises WeChatUnavailable."""
    _, font = _font(rt)  # a card uploaded with boxes for Chinese is uploaded again
    key = f'{rt.settings.key_prefix}cardthumb:{p.share_code}:{p.version}:{font}'
    cached = rt.redis.get(key)
    if cached:
        return cached.decode()
    media_id = upload_thumb(rt.oa_client, card_png(rt, p, now))
    rt.redis.set(key, media_id, ex=THUMB_TTL_S)
    return media_id


def fetch_image(url: str | None, allowed_hosts: set[str]) -> Image.Image | None:
    """The picture at `url` if its host is allowed and it is a real, reasonably small image; else None."""
    parts = urlsplit(url or '')
    if parts.scheme not in ('http', 'https') or parts.netloc not in allowed_hosts:
        return None
    try:
        with requests.get(url, timeout=3, stream=True, allow_redirects=False) as answer:
            answer.raise_for_status()
            data = answer.raw.read(MAX_IMAGE_BYTES + 1, decode_content=True)
        if len(data) > MAX_IMAGE_BYTES:
            return None
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > 16_000_000:
            return None
        image.load()
        return image
    except Exception as exc:  # noqa: BLE001 — any bad picture falls back to a drawn one
        log.info('poster picture %s not used: %s', url, exc)
        return None


def _font(rt) -> tuple[str | None, str]:
    """The pictures' font and its name in cache keys (`fonts.font_tag`)."""
    path = cjk_font_path(rt.settings.poster_font)
    return path, font_tag(path)


def _hosts(settings) -> set[str]:
    return {h.strip() for h in settings.poster_image_hosts.split(',') if h.strip()}
