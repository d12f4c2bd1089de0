"""The sensitive-word filter hook: what a question goes through before it is stored.

A filter is any callable `text -> (text, masked)` that returns the text to keep (masked or not) and whether
it changed anything, or raises `errors.SensitiveWords` to refuse it. The default is a word list from settings
(`ROOM_SENSITIVE_WORDS`) in one of two modes (`ROOM_WORD_FILTER`): `mask` (each listed word becomes ＊s) or
`reject`; `ROOM_WORD_FILTER=package.module:function` plugs in another one (a provider's content-safety check).
"""
import importlib
import re
import unicodedata
from collections.abc import Callable

from .. import errors

Filter = Callable[[str], tuple[str, bool]]
MASK = '＊'


class WordList:
    """Matches the listed words case-insensitively, also through full-width letters (ＡＢＣ) and spaces or
    punctuation slipped between the characters of a word (NFKC, then every word spelt with optional
    separators)."""

    def __init__(self, words, reject: bool):
        self.reject = reject
        cleaned = sorted({unicodedata.normalize('NFKC', w).strip().lower() for w in words if w.strip()},
                         key=len, reverse=True)
        gap = r'[\s\W_]*'
        self.pattern = re.compile('|'.join(gap.join(map(re.escape, w)) for w in cleaned), re.IGNORECASE) \
            if cleaned else None

    def __call__(self, text: str) -> tuple[str, bool]:
        if self.pattern is None:
            return text, False
        normal, origin = _normalized(text)
        spans = [(origin[m.start()], origin[m.end() - 1] + 1) for m in self.pattern.finditer(normal) if m.group(0)]
        if not spans:
            return text, False
        if self.reject:
            raise errors.SensitiveWords()
        kept, at = [], 0
        for start, end in spans:  # mask the original characters: the rest of the text stays as written
            kept += [text[at:start], MASK * (end - start)]
            at = end
        return ''.join(kept) + text[at:], True


def _normalized(text: str) -> tuple[str, list[int]]:
    """The text in NFKC, character by character, and for each normalized character the index it came from."""
    out, origin = [], []
    for i, char in enumerate(text):
        folded = unicodedata.normalize('NFKC', char)
        out.append(folded)
        origin += [i] * len(folded)
    return ''.join(out), origin


def words_from(setting: str) -> list[str]:
    """'a, b，c' -> ['a', 'b', 'c'] (ASCII or full-width commas)."""
    return [w.strip() for w in setting.replace('，', ',').split(',') if w.strip()]


def load_filter(mode: str, words: str) -> Filter:
    """The filter the settings name: 'mask', 'reject', or 'module:function' (a Filter). Raises ValueError
    for anything else, so a misspelt setting stops the process at start rather than letting words through."""
    mode = (mode or 'mask').strip()
    if mode in ('mask', 'reject'):
        return WordList(words_from(words), reject=mode == 'reject')
    module, _, name = mode.partition(':')
    if not module or not name:
        raise ValueError(f"ROOM_WORD_FILTER={mode!r}: write 'mask', 'reject' or 'package.module:function'")
    return getattr(importlib.import_module(module), name)
