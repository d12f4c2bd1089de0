"""The poster and the card picture: right sizes, a code that scans, and no crash without a CJK font."""
import io

import zxingcpp
from PIL import Image, ImageDraw

from posters import fonts
from posters.drawing import (CODE_BOX, POSTER_SIZE, THUMB_SIZE, PosterContent, draw_card_thumb, draw_poster,
                             poster_lines)
from wechat_sandbox.images import avatar_png, qr_png

SCENE = 'AbCdEf-_1234.1a2b3c4d5e'


def content(**changes):
    values = dict(course_title='Python 入门 30 讲：从零开始写出你的第一个爬虫和数据分析项目', price='¥99',
                  list_price='¥199', leader_name='alice', progress='还差2人成团，剩 3小时12分钟', size=3, paid=1,
                  deadline='截止 5月10日 20:00（北京时间）', code_png=qr_png(SCENE),
                  avatar=Image.open(io.BytesIO(avatar_png('alice'))))
    values.update(changes)
    return PosterContent(**values)


def decoded(image):
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_the_poster_is_a_phone_sized_png_whose_code_region_scans_back_to_the_scene():
    image = Image.open(io.BytesIO(draw_poster(content())))
    assert (image.format, image.size) == ('PNG', POSTER_SIZE)
    assert decoded(image.crop(CODE_BOX)) == [SCENE]
    assert decoded(image) == [SCENE]


def test_the_poster_draws_exactly_the_lines_it_reports(monkeypatch):
    """poster_lines is how tests read a poster's words without OCR, so it must be what is drawn."""
    drawn = []
    real_text = ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, 'text', lambda self, xy, text, *a, **k: (
        drawn.append(text), real_text(self, xy, text, *a, **k))[1])
    c = content(cover=None, avatar=None)
    draw_poster(c)
    lines = poster_lines(c)
    assert any(len(d) > 5 and lines['title'].startswith(d) for d in drawn)  # the title's first wrapped row
    assert [t for t in lines.values() if t and t != lines['title']] == \
        [d for d in drawn if d in set(lines.values()) - {lines['title']}]
    assert lines['progress'] == '还差2人成团，剩 3小时12分钟' and lines['deadline'] == '截止 5月10日 20:00（北京时间）'
    draw_poster(content(deadline=''))
    assert '' not in drawn


def test_without_a_cjk_font_the_poster_still_renders_with_pillows_default():
    image = Image.open(io.BytesIO(draw_poster(content(font_path=None, avatar=None))))
    assert image.size == POSTER_SIZE and decoded(image.crop(CODE_BOX)) == [SCENE]


def test_a_missing_font_file_falls_back_instead_of_crashing():
    assert fonts.font(20, '/nonexistent/font.ttc') is not None


def test_the_card_picture_is_five_by_four():
    image = Image.open(io.BytesIO(draw_card_thumb(None, 'Python 入门', '还差2人 ¥99')))
    assert (image.format, image.size) == ('PNG', THUMB_SIZE)


def test_the_configured_font_is_used_when_it_is_a_font_file(tmp_path):
    """POSTER_FONT (Settings.poster_font) is preferred; a path that is no font falls back to the shipped one."""
    mine = tmp_path / 'mine.ttc'
    mine.symlink_to(fonts.shipped_font_path())
    assert fonts.cjk_font_path(str(mine)) == str(mine)
    empty = tmp_path / 'empty.ttc'
    empty.write_bytes(b'')
    assert fonts.cjk_font_path(str(empty)) == fonts.cjk_font_path(str(tmp_path / 'missing.ttc')) == \
        fonts.shipped_font_path()


def test_the_shipped_font_comes_before_system_fonts_and_writes_simplified_chinese():
    """Noto Sans CJK from requirements.txt, whatever the machine has installed; its collection's SC face
    (the first face is Japanese, whose forms differ for some characters)."""
    assert fonts.cjk_font_path() == fonts.shipped_font_path()
    assert fonts.font(20).getname() == ('Noto Sans CJK SC', 'Regular')


def test_pictures_drawn_with_and_without_a_cjk_font_are_cached_apart():
    assert fonts.font_tag(None) == fonts.NO_CJK_FONT != fonts.font_tag(fonts.shipped_font_path())
