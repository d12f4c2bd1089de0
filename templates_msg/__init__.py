"""The message catalogue: every message kind users can receive, its zh-CN text, the mini-program
page it opens, and how it maps onto WeChat's template fields. Code names a kind and passes facts;
it never builds message text inline (DESIGN.md §1). Template ids come from settings (see
`template_ids`); the defaults are readable names, which the sandbox's demo accounts hold
(wechat_sandbox/templates.py): a production account's ids go in WECHAT_TPL_<KIND>."""
import os
from dataclasses import dataclass

from .catalogue import CATALOGUE, MessageKind
from .limits import fit

__all__ = ['CATALOGUE', 'MessageKind', 'Rendered', 'render', 'template_ids', 'KINDS']

KINDS = tuple(CATALOGUE)


@dataclass(frozen=True)
class Rendered:
    kind: str
    title: str
    text: str
    page: str
    subscribe_data: dict
    oa_data: dict
    sms: str


def _fill(template: str, params: dict) -> str:
    return template.format_map(_Defaulting(params))


class _Defaulting(dict):
    def __missing__(self, key):
        return ''


def render(kind: str, params: dict) -> Rendered:
    """The message of `kind` for these facts. Raises KeyError for an unknown kind."""
    entry = CATALOGUE[kind]
    return Rendered(
        kind=kind, title=_fill(entry.title, params), text=_fill(entry.text, params),
        page=_fill(entry.page, params),
        subscribe_data={field: {'value': fit(field, _fill(tpl, params))} for field, tpl in entry.subscribe.items()},
        oa_data={field: {'value': _fill(tpl, params)} for field, tpl in entry.oa.items()},
        sms=_fill(entry.sms, params))


def template_ids(kind: str) -> tuple[str | None, str | None]:
    """(subscribe template id, official-account template id) for a kind, from the environment:
    WECHAT_TPL_<KIND> and WECHAT_OA_TPL_<KIND>; defaults name the kind."""
    upper = kind.upper()
    return (os.environ.get(f'WECHAT_TPL_{upper}', f'tpl-{kind}') or None,
            os.environ.get(f'WECHAT_OA_TPL_{upper}', f'oa-tpl-{kind}') or None)
