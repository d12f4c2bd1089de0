"""Request bodies of the sharing and phone endpoints (see schemas.py for the house rules)."""
from typing import Annotated, Literal

from pydantic import Field

from .schemas import Body, Text


class PhoneCode(Body):
    code: Text(128, min_length=1)  # from <button open-type="getPhoneNumber">


class ShareClick(Body):
    ref: Annotated[Text(40) | None, Field(alias='from')] = None
    channel: Literal['card', 'poster', 'link', 'oa_card'] = 'card'
