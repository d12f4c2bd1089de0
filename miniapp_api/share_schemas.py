"""Request bodies of the sharing and phone endpoints (see schemas.py for the house rules)."""
from typing import Annotated, Literal

from pydantic import Field

from .schemas import Body


class PhoneCode(Body):
    code: Annotated[str, Field(min_length=1, max_length=128)]  # from <button open-type="getPhoneNumber">


class ShareClick(Body):
    ref: Annotated[str | None, Field(alias='from', max_length=40)] = None
    channel: Literal['card', 'poster', 'link', 'oa_card'] = 'card'
