"""Drawing the poster (750×1334, a phone screen) and the card thumbnail (520×416, WeChat's 5:4).

Pure: text, numbers and already-decoded images in, PNG bytes out. Missing pictures (no cover,
no avatar) get drawn stand-ins, so a poster always comes out whole.
"""
import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps

from .fonts import font

POSTER_SIZE = (750, 1334)
THUMB_SIZE = (520, 416)
CODE_BOX = (60, 1000, 340, 1280)  # left, top, right, bottom of the mini-program code
RED, INK, GREY, PAPER = (230, 57, 70), (34, 34, 34), (140, 140, 140), (255, 250, 244)


@dataclass(frozen=True)
class PosterContent:
    course_title: str
    price: str            # '¥99'
    list_price: str       # '¥199'
    leader_name: str
    progress: str         # '还差2人成团，剩 3小时12分钟'
    size: int
    paid: int
    deadline: str         # '截止 5月10日 20:00（北京时间）' or ''
    code_png: bytes
    cover: Image.Image | None = None
    avatar: Image.Image | None = None
    font_path: str | None = ''  # '' finds a CJK font; None forces Pillow's default (tests)


def poster_lines(c: PosterContent) -> dict[str, str]:
    """The text the poster draws, by place, top to bottom ('' for a place left empty; the title is
    wrapped when drawn), so a poster's words can be read without OCR: `draw_poster` draws exactly these."""
    return {'title': c.course_title, 'price_label': '拼团价', 'price': c.price, 'list_price': f'原价 {c.list_price}',
            'invite': f'{c.leader_name[:12]} 邀你一起拼课', 'progress': c.progress, 'deadline': c.deadline,
            'scan': '长按识别小程序码', 'together': '和我一起拼课'}


def draw_poster(c: PosterContent) -> bytes:
    words = poster_lines(c)
    image = Image.new('RGB', POSTER_SIZE, PAPER)
    draw = ImageDraw.Draw(image)
    f = lambda size: font(size, c.font_path)  # noqa: E731
    image.paste(_cover(c.cover, '一起拼课 · 一起学', (750, 420), c.font_path), (0, 0))
    y = _wrapped(draw, words['title'], (40, 450), 670, f(40), INK, max_lines=2)
    draw.text((40, y + 24), words['price_label'], font=f(28), fill=RED)
    draw.text((136, y + 6), words['price'], font=f(60), fill=RED)
    x = 136 + draw.textlength(words['price'], font=f(60)) + 24
    draw.text((x, y + 30), words['list_price'], font=f(28), fill=GREY)
    width = draw.textlength(words['list_price'], font=f(28))
    draw.line((x, y + 48, x + width, y + 48), fill=GREY, width=2)
    y += 110
    draw.line((40, y, 710, y), fill=(235, 225, 215), width=2)
    image.paste(_round(c.avatar, c.leader_name, 88, c.font_path), (40, y + 30), _round_mask(88))
    draw.text((148, y + 52), words['invite'], font=f(30), fill=INK)
    y += 130
    draw.text((40, y), words['progress'], font=f(34), fill=RED)
    _seat_dots(draw, c.size, c.paid, (40, y + 60))
    if words['deadline']:
        draw.text((40, y + 110), words['deadline'], font=f(26), fill=GREY)
    draw.rounded_rectangle((30, 970, 720, 1310), radius=24, fill='white')
    code = Image.open(io.BytesIO(c.code_png)).convert('RGB')
    image.paste(code.resize((CODE_BOX[2] - CODE_BOX[0], CODE_BOX[3] - CODE_BOX[1]), Image.LANCZOS), CODE_BOX[:2])
    draw.text((380, 1080), words['scan'], font=f(32), fill=INK)
    draw.text((380, 1136), words['together'], font=f(28), fill=GREY)
    return _png(image)


def draw_card_thumb(cover: Image.Image | None, course_title: str, banner: str, font_path: str | None = '') -> bytes:
    """The mini-program card's picture: the cover with a band saying seats left and price."""
    image = _cover(cover, course_title, THUMB_SIZE, font_path)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 336, 520, 416), fill=RED)
    draw.text((260, 376), banner, font=font(36, font_path), fill='white', anchor='mm')
    return _png(image)


def _cover(cover, label, size, font_path) -> Image.Image:
    if cover is not None:
        return ImageOps.fit(cover.convert('RGB'), size, Image.LANCZOS)
    image = Image.new('RGB', size, (255, 138, 76))
    draw = ImageDraw.Draw(image)
    for i in range(size[1]):  # a warm gradient stands in for a missing cover
        draw.line((0, i, size[0], i), fill=(255, 138 - i * 60 // size[1], 76 + i * 30 // size[1]))
    _wrapped(draw, label, (40, size[1] // 3), size[0] - 80, font(size[1] // 8, font_path), 'white', max_lines=2)
    return image


def _round(picture, name, size, font_path) -> Image.Image:
    if picture is not None:
        return ImageOps.fit(picture.convert('RGB'), (size, size), Image.LANCZOS)
    image = Image.new('RGB', (size, size), (255, 180, 120))
    ImageDraw.Draw(image).text((size / 2, size / 2), (name or '拼')[:1], font=font(size // 2, font_path),
                               fill='white', anchor='mm')
    return image


def _round_mask(size) -> Image.Image:
    mask = Image.new('L', (size, size), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size - 1, size - 1), fill=255)
    return mask


def _seat_dots(draw, size, paid, origin) -> None:
    x, y = origin
    for i in range(min(size, 12)):
        box = (x + i * 44, y, x + i * 44 + 32, y + 32)
        draw.ellipse(box, fill=RED if i < paid else None, outline=RED, width=3)


def _wrapped(draw, text, origin, width, f, fill, max_lines) -> int:
    """Draw `text` wrapped to `width` px (character by character: Chinese has no spaces). Returns
    the y below the last line."""
    x, y = origin
    lines, line = [], ''
    for ch in text:
        if draw.textlength(line + ch, font=f) > width and line:
            lines.append(line)
            line = ''
        line += ch
    lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + '…'
    height = int(getattr(f, 'size', 12) * 1.3)
    for row in lines:
        draw.text((x, y), row, font=f, fill=fill)
        y += height
    return y


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format='PNG', optimize=True)
    return out.getvalue()
