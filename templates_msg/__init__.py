"""The message catalogue: every message kind users can receive, its zh-CN text, the mini-program
page it opens, and how it maps onto WeChat's template fields. Code names a kind and passes facts;
it never builds message text inline (DESIGN.md §1). Template ids come from settings (see
`template_ids`); the defaults are readable names, which the sandbox's demo accounts hold
(wechat_sandbox/templates.py): a production account's ids go in WECHAT_TPL_<KIND>."""
from collections.abc import Mapping
from dataclasses import dataclass

from .catalogue import CATALOGUE, MessageKind
from .limits import fit

__all__ = ['CATALOGUE', 'MessageKind', 'Rendered', 'render', 'template_ids', 'default_template_ids',
           'KINDS']

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


def default_template_ids() -> dict[str, tuple[str, str]]:
    """kind -> (subscribe id, official-account id) when settings name none: what the sandbox holds."""
    return {kind: (f'tpl-{kind}', f'oa-tpl-{kind}') for kind in KINDS}


def template_ids(kind: str, ids: Mapping[str, tuple[str, str]] | None = None) -> tuple[str | None, str | None]:
    """(subscribe template id, official-account template id) for a kind from `ids` (`Settings.message_templates`;
    else the defaults); '' is "no template", None here."""
    subscribe, oa = (ids or {}).get(kind) or (f'tpl-{kind}', f'oa-tpl-{kind}')
    return subscribe or None, oa or None
