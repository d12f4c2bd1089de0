"""Request bodies of the warm-up live room: the shopper's question, and the console's forms (see schemas.py for
the house rules; console/forms.py parses a form into these, so a form and a JSON call obey the same bounds)."""
import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator

from groupbuy.rooms.audience import MAX_QUESTION

from .schemas import Body, Id, Text

WEEK_S = 7 * 24 * 3600


def _naive_utc(value):
    if value is not None and value.tzinfo is not None:
        try:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise ValueError('out of range') from None
    return value


class NewQuestion(Body):
    text: Text(MAX_QUESTION, min_length=1)


class RoomSchedule(Body):
    title: Text(100, min_length=1)
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    stream_url: Text(512) = ''
    remind_before_s: Annotated[int, Field(strict=True, ge=0, le=WEEK_S)] = 600

    @field_validator('starts_at', 'ends_at')
    @classmethod
    def as_naive_utc(cls, value):
        return _naive_utc(value)


class NewRoom(RoomSchedule):
    campaign_id: Id


class NewPost(Body):
    author: Text(64, min_length=1) = '讲师'
    kind: Literal['text', 'picture', 'stream'] = 'text'
    body: Text(2000) = ''
    picture_url: Text(512) = ''


class Answer(Body):
    answer: Text(2000, min_length=1)
    answered_by: Text(64, min_length=1) = '讲师'
    pin: bool = False


class Mute(Body):
    user_id: Id
    minutes: Annotated[int, Field(strict=True, ge=0, le=30 * 24 * 60)] | None = None  # 0 / none: the room's life
