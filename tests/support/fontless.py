"""A machine without system fonts, for real: fontconfig (what `fc-list` and our font lookup ask) reads a
configuration whose only font folder is empty, and HOME and the XDG folders are empty too, so no user
font is found either. Where the machine allows a mount namespace, `hiding_system_fonts` also covers
/usr/share/fonts with an empty tmpfs for a child process, so not even a hard-coded path finds a font."""
import shutil
import subprocess
from pathlib import Path

FONTS_CONF = '''<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>{empty}</dir><cachedir>{cache}</cachedir></fontconfig>
'''
SYSTEM_FONTS = Path('/usr/share/fonts')
HIDE = 'mount -t tmpfs tmpfs /usr/share/fonts && exec "$@"'


def fontless_env(root: Path) -> dict[str, str]:
    """Environment variables under which fontconfig finds no font at all (folders made under `root`)."""
    for folder in ('empty', 'cache', 'home', 'xdg-data', 'xdg-config', 'xdg-cache'):
        (root / folder).mkdir(parents=True, exist_ok=True)
    conf = root / 'fonts.conf'
    conf.write_text(FONTS_CONF.format(empty=root / 'empty', cache=root / 'cache'))
    return {'FONTCONFIG_FILE': str(conf), 'FONTCONFIG_PATH': str(root), 'HOME': str(root / 'home'),
            'XDG_DATA_HOME': str(root / 'xdg-data'), 'XDG_CONFIG_HOME': str(root / 'xdg-config'),
            'XDG_CACHE_HOME': str(root / 'xdg-cache'), 'XDG_DATA_DIRS': str(root / 'xdg-data')}


def hiding_system_fonts(command: list[str]) -> list[str]:
    """`command` run with /usr/share/fonts empty (a private mount namespace), if this machine lets us
    make one; else `command` as it is (fontconfig alone then keeps the fonts out of sight)."""
    if not SYSTEM_FONTS.is_dir() or not shutil.which('unshare'):
        return command
    wrapped = ['unshare', '--mount', '--map-root-user', 'sh', '-c', HIDE, 'sh']
    try:
        probe = subprocess.run([*wrapped, 'true'], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return command
    return [*wrapped, *command] if probe.returncode == 0 else command


def chinese_fonts_listed(env: dict[str, str]) -> str | None:
    """What `fc-list :lang=zh` prints under `env` (None when fontconfig is not installed)."""
    if not shutil.which('fc-list'):
        return None
    return subprocess.run(hiding_system_fonts(['fc-list', ':lang=zh']), env=env, capture_output=True,
                          text=True, timeout=30, check=True).stdout
