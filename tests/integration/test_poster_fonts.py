"""Pictures look right on any machine (issue 14): the poster code ships its CJK font, so a machine with no
system font at all still draws real Chinese; a picture drawn without one (a broken install) is drawn again,
not served from the cache, once the font is there."""
import contextlib
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageFont

from groupbuy import groups
from posters import fonts
from posters.drawing import PosterContent, draw_poster, poster_lines
from tests.support.builders import campaign, user
from tests.support.fontless import chinese_fonts_listed, fontless_env, hiding_system_fonts
from wechat_sandbox.images import qr_png

ROOT = Path(__file__).resolve().parents[2]
WORDS = dict(course_title='Python 入门 30 讲：写出你的第一个爬虫', price='¥99', list_price='¥199',
             leader_name='小明', progress='还差2人成团，剩 3小时12分钟', size=3, paid=1,
             deadline='截止 5月10日 20:00（北京时间）')
DRAW_IN_CHILD = '''
import json, sys
from posters import fonts
from posters.drawing import PosterContent, draw_poster
words = json.loads(sys.argv[1])
code = open(sys.argv[2], 'rb').read()
open(sys.argv[3], 'wb').write(draw_poster(PosterContent(**words, code_png=code)))
print(json.dumps({'font': fonts.cjk_font_path()}))
'''
LACKING = ('\U000f0001', '\U000f0002')  # private-use code points no CJK font draws: both come out as .notdef


def rendered(f, text: str) -> tuple:
    mask = f.getmask(text)
    return mask.size, bytes(mask)


@contextlib.contextmanager
def no_cjk_font(tmp_path):
    """This process as on a broken install: the shipped font's package gone, fontconfig finding nothing."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, 'noto_cjk_sans_otc', None)  # `import noto_cjk_sans_otc` now raises ImportError
        for name, value in fontless_env(tmp_path / 'fontless').items():
            mp.setenv(name, value)
        forget_fonts()
        yield
    forget_fonts()


def forget_fonts():
    for cached in (fonts.cjk_font_path, fonts.font, fonts.face_index):
        cached.cache_clear()


def test_a_poster_drawn_on_a_machine_without_any_system_cjk_font_writes_real_chinese_glyphs(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != 'POSTER_FONT'} | fontless_env(tmp_path)
    assert chinese_fonts_listed(env) in ('', None)  # fontconfig finds no Chinese font (or is not even there)
    code, out = tmp_path / 'code.png', tmp_path / 'poster.png'
    code.write_bytes(qr_png('AbCdEf-_1234'))
    child = subprocess.run(hiding_system_fonts([sys.executable, '-c', DRAW_IN_CHILD, json.dumps(WORDS), str(code),
                                                str(out)]), env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert child.returncode == 0, child.stderr
    chosen = json.loads(child.stdout)['font']
    assert chosen == fonts.shipped_font_path() and not chosen.startswith('/usr/share/fonts')

    poster = out.read_bytes()
    words = {**WORDS, 'code_png': code.read_bytes()}
    with_font = draw_poster(PosterContent(**words, font_path=chosen))
    with_boxes = draw_poster(PosterContent(**words, font_path=None))  # what a machine without the font drew
    assert poster == with_font and poster != with_boxes
    cjk = ImageFont.truetype(chosen, 32, index=fonts.face_index(chosen))
    assert cjk.getname() == ('Noto Sans CJK SC', 'Regular')
    notdef = rendered(cjk, LACKING[0])
    assert rendered(cjk, LACKING[1]) == notdef  # that is what a missing glyph looks like in this font
    chinese = {ch for line in poster_lines(PosterContent(**words)).values() for ch in line if ord(ch) > 0x2e80}
    assert len(chinese) > 30 and all(rendered(cjk, ch) != notdef for ch in chinese)
    default = ImageFont.load_default(32)
    assert rendered(default, '拼') == rendered(default, LACKING[0])  # Pillow's own font: a box, as the old code drew


@pytest.mark.parametrize('picture', ['poster.png', 'card.png'])
def test_a_picture_drawn_without_a_cjk_font_is_drawn_again_once_the_font_is_there(
        on_sandbox, deps, tmp_path, caplog, picture):
    client = on_sandbox().test_client()
    share = groups.open_group(deps, user(), campaign().id, '127.0.0.1').group.share_code
    url = f'/api/groups/{share}/{picture}'
    with no_cjk_font(tmp_path), caplog.at_level(logging.WARNING, logger='posters.fonts'):
        boxes = client.get(url)
        assert client.get(url).data == boxes.data  # cached while the machine has no font
    assert boxes.status_code == 200 and 'no CJK font found' in caplog.text
    drawn = client.get(url)
    assert drawn.status_code == 200 and drawn.data != boxes.data  # a new drawing, not the cached boxes
    kind = picture.split('.')[0]
    keys = sorted(k.decode().rsplit(':', 1)[1] for k in deps.redis.scan_iter(f'{deps.key_prefix}{kind}:{share}:*'))
    assert keys == sorted([fonts.NO_CJK_FONT, fonts.font_tag(fonts.shipped_font_path())])
    assert client.get(url).data == drawn.data
    assert Image.open(io.BytesIO(drawn.data)).format == 'PNG'
