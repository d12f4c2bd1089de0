"""No module names something that does not exist (pyflakes' undefined-name check): a rename done by hand
once left a NameError that only the slow layers reached. Unused imports are not this test's business."""
from pathlib import Path

from pyflakes import api, messages, reporter

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ('groupbuy', 'console', 'config', 'miniapp_api', 'bot', 'jobs', 'gateways', 'posters', 'templates_msg',
            'wechat_sandbox', 'tools', 'bench', 'tests')
NAMING = (messages.UndefinedName, messages.UndefinedExport, messages.UndefinedLocal)


class Collect(reporter.Reporter):
    def __init__(self):
        super().__init__(None, None)
        self.found = []

    def flake(self, message):
        if isinstance(message, NAMING):
            self.found.append(str(message))

    def syntaxError(self, filename, msg, lineno, offset, text):
        self.found.append(f'{filename}:{lineno}: {msg}')

    def unexpectedError(self, filename, msg):
        self.found.append(f'{filename}: {msg}')


def test_no_module_names_something_undefined():
    collect = Collect()
    api.checkRecursive([str(ROOT / p) for p in PACKAGES] + [str(ROOT / 'wsgi.py')], collect)
    assert collect.found == []


def test_the_check_sees_an_undefined_name(tmp_path):
    source = tmp_path / 'renamed.py'
    source.write_text('LIVE_GROUP = 1\n\ndef f(x):\n    return x in LIVE_GROUP_GROUP\n')
    collect = Collect()
    api.checkRecursive([str(source)], collect)
    assert len(collect.found) == 1 and 'LIVE_GROUP_GROUP' in collect.found[0]
