"""A font that can write Chinese, found once per process. Without one (no CJK font installed),
Pillow's default font is used: the picture still renders, never crashes; glyphs it lacks show
as boxes. Debian: `apt-get install fonts-wqy-microhei` (what .ci/run installs)."""
import functools
import logging
import os
import shutil
import subprocess

from PIL import ImageFont

log = logging.getLogger(__name__)
KNOWN = ('/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
         '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
         '/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf',
         '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
         '/System/Library/Fonts/PingFang.ttc')


@functools.lru_cache(maxsize=4)
def cjk_font_path(preferred: str = '') -> str | None:
    """`preferred` (`Settings.poster_font`, POSTER_FONT) if it is a file, else a known CJK font, else
    whatever fontconfig offers for Chinese."""
    for path in (preferred, *KNOWN):
        if path and os.path.isfile(path):
            return path
    if shutil.which('fc-list'):
        try:
            out = subprocess.run(['fc-list', ':lang=zh', 'file'], capture_output=True, text=True, timeout=5).stdout
        except (OSError, subprocess.SubprocessError):
            out = ''
        for line in out.splitlines():
            path = line.split(':', 1)[0].strip()
            if path and os.path.isfile(path):
                return path
    log.warning('no CJK font found: posters use Pillow\'s default font (install fonts-wqy-microhei)')
    return None


@functools.lru_cache(maxsize=32)
def font(size: int, path: str | None = '') -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The CJK font at `size` px (`path=None` forces the fallback, for tests)."""
    path = cjk_font_path() if path == '' else path
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError as exc:
            log.warning('cannot load font %s: %s', path, exc)
    try:
        return ImageFont.load_default(size)
    except (TypeError, OSError):  # Pillow without FreeType: a fixed bitmap font
        return ImageFont.load_default()
