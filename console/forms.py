"""HTML forms into the API's pydantic models, so a form and a JSON call obey the same bounds
(miniapp_api/schemas.py). A form sends strings; each is turned into its field's type first."""
import datetime as dt
import re
import types
import typing
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from groupbuy import errors

BEIJING = ZoneInfo('Asia/Shanghai')


def parse_form(model: type[BaseModel], form, only: tuple[str, ...] | None = None) -> BaseModel:
    """Raises InvalidInput naming the first bad field (the page shows it next to the form)."""
    data = {}
    for name, field in model.model_fields.items():
        if only is not None and name not in only:
            continue
        raw = form.get(name)
        if field.annotation is bool or _base(field.annotation) is bool:
            data[name] = raw in ('on', 'true', '1')
        elif isinstance(raw, (list, dict)):  # nested fields the caller built from several inputs (tiers, a reward)
            data[name] = raw
        elif raw not in (None, ''):
            data[name] = _typed(field.annotation, raw.strip())
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise errors.InvalidInput(f'{".".join(map(str, first["loc"]))}: {first["msg"]}',
                                  field=str(first['loc'][0])) from None


def _base(annotation):
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Annotated:
        return _base(args[0])
    if args and typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return _base(args[0])
    return annotation


def _typed(annotation, raw: str):
    base = _base(annotation)
    try:
        if base is int:
            return int(raw)
        if base is float:
            return float(raw)
        if base is dt.datetime:
            # <input type=datetime-local> is Beijing time to an operator; the model keeps naive UTC
            return dt.datetime.fromisoformat(raw).replace(tzinfo=BEIJING)
        if typing.get_origin(base) is list:
            return [int(x) for x in raw.replace('，', ',').split(',') if x.strip()]
    except ValueError:
        return raw  # pydantic names the field and what it expected
    return raw


_WHOLE = re.compile(r'^[0-9]{1,18}$')  # ASCII digits that fit an id: str.isdigit takes '²', which int() refuses


def whole_number(raw: str | None, name: str, lowest: int = 1, highest: int = 2 ** 63 - 1) -> int | None:
    """A query or form field holding a whole number: None when empty; InvalidInput unless lowest–highest."""
    raw = (raw or '').strip()
    if not raw:
        return None
    if not _WHOLE.match(raw) or not lowest <= int(raw) <= highest:
        raise errors.InvalidInput(f'{name}: a whole number, {lowest}–{highest}', field=name)
    return int(raw)
