"""Headless Chromium (Debian's package) driven by Playwright against the running system."""
import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / 'test-artifacts'
PHONE = {'viewport': {'width': 390, 'height': 844}, 'device_scale_factor': 2, 'is_mobile': True, 'has_touch': True,
         'user_agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148'}
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']


def chromium_path() -> str | None:
    return os.environ.get('CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser')


@pytest.fixture(scope='session')
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get('CI'):
            pytest.fail('Chromium is missing: .ci/run installs Debian\'s chromium package')
        pytest.skip('no Chromium here (apt-get install chromium), browser tests skipped')
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A fresh phone-sized browser context (its own cookies and storage: another person)."""
    contexts = []

    def open_context():
        context = browser.new_context(**PHONE, locale='zh-CN')
        contexts.append(context)
        return context
    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page, name: str) -> Path:
        path = ARTIFACTS / f'{name}.png'
        page.screenshot(path=str(path), full_page=True)
        return path
    return save
