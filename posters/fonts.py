"""A font that can write Chinese, the same on every machine, found once per process.

In order: `POSTER_FONT` if it is a font file; the font we ship as a dependency (Noto Sans CJK, package
`noto-cjk-sans-otc`: requirements.txt), so a fresh machine with only Python draws real Chinese; then
whatever fontconfig offers for Chinese, for an install that lost the package. With none of them,
Pillow's default font is used and a warning logged: the picture still renders, never crashes, but
glyphs it lacks show as boxes. `font_tag` names the font in the pictures' cache keys, so a picture
drawn without a CJK font is drawn again once there is one."""
import functools
import hashlib
import logging
import os
import shutil
import subprocess

from PIL import ImageFont

log = logging.getLogger(__name__)
NO_CJK_FONT = 'nocjk'  # font_tag of Pillow's default font


def shipped_font_path() -> str | None:
    """Noto Sans CJK from the `noto-cjk-sans-otc` package, or None if the install lost it."""
    try:
        from noto_cjk_sans_otc import FONT_PATH
    except ImportError:
        return None
    return str(FONT_PATH)


def system_font_path() -> str | None:
    """The first font fontconfig lists for Chinese (`fc-list :lang=zh`), if fontconfig is there."""
    if not shutil.which('fc-list'):
        return None
    try:
        out = subprocess.run(['fc-list', ':lang=zh', 'file'], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in sorted(out.splitlines()):  # fc-list's order is the cache's: sorted, every process picks the same
        path = line.split(':', 1)[0].strip()
        if path and os.path.isfile(path):
            return path
    return None


@functools.lru_cache(maxsize=4)
def cjk_font_path(preferred: str = '') -> str | None:
    """`preferred` (`Settings.poster_font`, POSTER_FONT) if it is a font, else the shipped font, else a
    system one; None (with a warning) when there is none."""
    if preferred and not _loads(preferred):
        log.warning('POSTER_FONT %s is no font file: looking further', preferred)
    for find in (lambda: preferred, shipped_font_path, system_font_path):  # lazily: fc-list only if needed
        path = find()
        if path and _loads(path):
            return path
    log.warning('no CJK font found: posters use Pillow\'s default font and draw boxes for Chinese '
                '(reinstall requirements.txt: noto-cjk-sans-otc)')
    return None


@functools.lru_cache(maxsize=8)
def face_index(path: str) -> int:
    """Which face of a font collection (.ttc) writes simplified Chinese: the one whose family ends in
    'SC' (Noto Sans CJK's third face; its first is Japanese), else the first."""
    for index in range(32):
        try:
            family = ImageFont.truetype(path, 12, index=index).getname()[0] or ''
        except OSError:  # past the last face, or no font at all
            break
        if family.split()[-1:] == ['SC']:
            return index
    return 0


def _loads(path: str) -> bool:
    try:
        ImageFont.truetype(path, 12, index=face_index(path))
    except (OSError, ValueError):
        return False
    return True


def font_tag(path: str | None) -> str:
    """A short name for the font a picture is drawn with, for cache keys: NO_CJK_FONT for Pillow's default.
    Named by file name and size, not where it lies, so machines with the same font share pictures."""
    if not path:
        return NO_CJK_FONT
    return hashlib.sha256(f'{os.path.basename(path)}:{os.path.getsize(path)}'.encode()).hexdigest()[:10]


@functools.lru_cache(maxsize=32)
def font(size: int, path: str | None = '') -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The CJK font at `size` px (`path=None` forces the fallback, for tests)."""
    path = cjk_font_path() if path == '' else path
    if path:
        try:
            return ImageFont.truetype(path, size, index=face_index(path))
        except (OSError, ValueError) as exc:
            log.warning('cannot load font %s: %s', path, exc)
    try:
        return ImageFont.load_default(size)
    except (TypeError, OSError):  # Pillow without FreeType: a fixed bitmap font
        return ImageFont.load_default()
