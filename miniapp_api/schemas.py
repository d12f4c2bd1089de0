"""Request bodies, validated by pydantic. Numbers are strict (no "3" for 3, no true for 1) and
bounded, so a negative or absurd value is a clear 400, never a stored row. Unknown fields (like a
client-sent price) are ignored: the server computes every price."""
import datetime as dt
from typing import Annotated, Literal

from flask import request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from groupbuy import errors

MAX_FEN = 100_000_000  # ¥1,000,000
Fen = Annotated[int, Field(strict=True, ge=1, le=MAX_FEN)]
Id = Annotated[int, Field(strict=True, ge=1, le=2**62)]


class Body(BaseModel):
    model_config = ConfigDict(extra='ignore', str_strip_whitespace=True)


def parse(model: type[BaseModel]):
    """The request's JSON body as `model`. Raises InvalidInput for a missing or non-object body."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise errors.InvalidInput('the body must be a JSON object (Content-Type: application/json)')
    return model.model_validate(data)


class WxLogin(Body):
    code: Annotated[str, Field(min_length=1, max_length=128)]
    ref: Annotated[str | None, Field(alias='from', max_length=40)] = None  # the sharer, from a shared page


class ProfileUpdate(Body):
    nickname: Annotated[str, Field(max_length=64)] | None = None
    avatar_url: Annotated[str, Field(max_length=512)] | None = None


class NewCourse(Body):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    price_fen: Fen
    cover_url: Annotated[str, Field(max_length=512)] = ''


class NewCampaign(Body):
    course_id: Id
    group_size: Annotated[int, Field(strict=True, ge=2, le=100)]
    duration_s: Annotated[int, Field(strict=True, ge=1, le=30 * 24 * 3600)]
    group_price_fen: Fen
    leader_price_fen: Fen | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    max_groups: Annotated[int, Field(strict=True, ge=1, le=10_000_000)] | None = None
    per_user_limit: Annotated[int, Field(strict=True, ge=1, le=100)] = 1
    new_users_only: Annotated[bool, Field(strict=True)] = False
    auto_complete_ratio: Annotated[float, Field(gt=0, le=1)] | None = None
    status: Literal['draft', 'active'] = 'active'
    nudge_offsets_s: Annotated[list[Annotated[int, Field(strict=True, ge=1, le=30 * 24 * 3600)]],
                               Field(max_length=5)] = [7200, 900]

    @field_validator('starts_at', 'ends_at')
    @classmethod
    def as_naive_utc(cls, value):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value


class CampaignStatus(Body):
    status: Literal['draft', 'active', 'paused', 'ended']


class OpenGroup(Body):
    campaign_id: Id


class NewBroadcast(Body):
    segment: dict  # checked by the domain: {type: expiring_short|campaign|users, ...}
    message: Annotated[str, Field(min_length=1, max_length=500)]


class Consents(Body):
    template_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]],
                            Field(min_length=1, max_length=20)]
