"""Request bodies and query strings, validated by pydantic. Numbers are strict (no "3" for 3, no true
for 1) and bounded, so a negative or absurd value is a clear 400, never a stored row or a crash in the
database. Unknown fields are refused with a 400 that names them: a misspelt `leader_pirce_fen` must not
quietly create a campaign without a leader price (and a client-sent price is never taken: the server
computes every price)."""
import datetime as dt
from typing import Annotated, Literal, Union

from flask import request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from werkzeug.routing import IntegerConverter

from groupbuy import errors
from groupbuy.broadcasts import MAX_EXPLICIT_USERS
from groupbuy.models import MAX_ID
from groupbuy.refunds import ATTENTION_STATUSES

from .errors import UnknownFields

MAX_FEN = 100_000_000  # ¥1,000,000
Fen = Annotated[int, Field(strict=True, ge=1, le=MAX_FEN)]
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]


def _storable(value: str) -> str:
    if '\x00' in value:
        raise ValueError('must not contain NUL characters')
    return value


def Text(max_length: int, min_length: int = 0):  # noqa: N802 — reads as a type
    """A string of bounded length that PostgreSQL can store (text columns refuse NUL)."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_storable)]


class IdConverter(IntegerConverter):
    """`<id:...>` in a route: a row id in the database's range. Anything else (0, 2^63, 5000 digits)
    matches no route: a 404, never an overflow in the database driver."""

    def __init__(self, map, **kwargs):
        super().__init__(map, **{'min': 1, 'max': MAX_ID, **kwargs})


class Body(BaseModel):
    model_config = ConfigDict(extra='forbid', str_strip_whitespace=True)


class Query(BaseModel):
    """A query string: values arrive as text, so numbers are parsed (lax) but still bounded. Unknown
    parameters are ignored: links pick up tracking parameters on the way."""
    model_config = ConfigDict(extra='ignore', str_strip_whitespace=True)


def parse(model: type[BaseModel], optional: bool = False):
    """The request's JSON body as `model`. Raises InvalidInput for a missing or non-object body and
    UnknownFields (naming them and what is accepted) for fields the model does not know. `optional`: an empty
    body means every field's default (an endpoint whose fields are all optional)."""
    if optional and not request.get_data(cache=True):
        return model()
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # [[[[… nested deeper than the JSON decoder goes (silent covers only ValueError)
        data = None
    if not isinstance(data, dict):
        raise errors.InvalidInput('the body must be a JSON object (Content-Type: application/json)')
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        unknown = ['.'.join(str(p) for p in e['loc']) for e in exc.errors() if e['type'] == 'extra_forbidden']
        if unknown:
            accepted = [f.alias or name for name, f in model.model_fields.items()]
            raise UnknownFields(f'unknown field{"s" if len(unknown) > 1 else ""} {", ".join(unknown)}; '
                                f'this endpoint takes {", ".join(accepted)}', unknown=unknown, accepted=accepted)
        raise


def parse_query(model: type[Query]):
    """The request's query string as `model` (the first value of a repeated parameter)."""
    return model.model_validate(request.args.to_dict())


class WxLogin(Body):
    code: Text(128, min_length=1)
    ref: Annotated[Text(40) | None, Field(alias='from')] = None  # the sharer, from a shared page
    share_code: Text(32) | None = None  # the shared group the mini-program was opened on


class ProfileUpdate(Body):
    nickname: Text(64) | None = None
    avatar_url: Text(512) | None = None


class NewCourse(Body):
    title: Text(200, min_length=1)
    price_fen: Fen
    # shown in pages as a CSS background: an http(s) URL with nothing that could end the url('…') it sits in
    cover_url: Annotated[str, Field(max_length=512, pattern=r"^(https?://[^\s'\"()\\<>]+)?$")] = ''


class NewVariant(Body):
    """One arm of an A/B test of group rules (groupbuy/experiments.py)."""
    name: Text(32, min_length=1)
    weight: Annotated[int, Field(strict=True, ge=1, le=1000)] = 1
    group_size: Annotated[int, Field(strict=True, ge=2, le=100)]
    duration_s: Annotated[int, Field(strict=True, ge=1, le=30 * 24 * 3600)]
    group_price_fen: Fen
    leader_price_fen: Fen | None = None


class Tier(Body):
    size: Annotated[int, Field(strict=True, ge=2, le=100)]
    price_fen: Fen


class Reward(Body):
    """What a referrer earns (groupbuy/rewards.py checks the combination)."""
    kind: Literal['coupon', 'points']
    amount_fen: Fen | None = None
    min_spend_fen: Fen | None = None
    valid_days: Annotated[int, Field(strict=True, ge=1, le=366)] | None = None
    points: Annotated[int, Field(strict=True, ge=1, le=1_000_000)] | None = None


FreeOrFen = Annotated[int, Field(strict=True, ge=0, le=MAX_FEN)]  # a leader price: 0 is a free leader (团长免单)


class NewCampaign(Body):
    course_id: Id
    group_size: Annotated[int, Field(strict=True, ge=2, le=100)] | None = None  # from the tiers when tiered
    duration_s: Annotated[int, Field(strict=True, ge=1, le=30 * 24 * 3600)]
    group_price_fen: Fen | None = None  # from the tiers when tiered
    leader_price_fen: FreeOrFen | None = None
    tiers: Annotated[list[Tier], Field(max_length=5)] = []  # a tiered group (阶梯团): 2 to 5 tiers
    reward: Reward | None = None  # 老带新: what a referrer earns per newcomer in a group that succeeds
    extra_course_ids: Annotated[list[Id], Field(max_length=20)] = []  # 跨课程拼团: further courses to pick from
    band_low_fen: Fen | None = None  # the price band every course of a cross-course campaign lies in
    band_high_fen: Fen | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    max_groups: Annotated[int, Field(strict=True, ge=1, le=10_000_000)] | None = None
    per_user_limit: Annotated[int, Field(strict=True, ge=1, le=100)] = 1
    new_users_only: Annotated[bool, Field(strict=True)] = False
    # a share of at most 100 seats: below 1 % it means nothing (and 5e-324 underflows PostgreSQL's REAL)
    auto_complete_ratio: Annotated[float, Field(ge=0.01, le=1)] | None = None
    status: Literal['draft', 'active'] = 'active'
    nudge_offsets_s: Annotated[list[Annotated[int, Field(strict=True, ge=1, le=30 * 24 * 3600)]],
                               Field(max_length=5)] = [7200, 900]
    variants: Annotated[list[NewVariant], Field(max_length=10)] = []  # two or more: an A/B test of group rules

    @field_validator('starts_at', 'ends_at')
    @classmethod
    def as_naive_utc(cls, value):
        if value is not None and value.tzinfo is not None:
            try:
                value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
            except OverflowError:  # 9999-12-31T23:00-05:00 is past year 9999 in UTC
                raise ValueError('out of range') from None
        return value


class StopExperiment(Body):
    winner: Text(32, min_length=1)


class CampaignStatus(Body):
    status: Literal['draft', 'active', 'paused', 'ended']


class OpenGroup(Body):
    campaign_id: Id
    course_id: Id | None = None  # a cross-course campaign: the course the leader buys
    coupon_id: Id | None = None  # a coupon of theirs (GET /api/me/rewards) to spend


class JoinGroup(Body):
    """Optional: an empty body joins with the campaign's course and no coupon, paying in the mini-program.
    `pay_via: official_account`: a page in WeChat's browser pays through the official account (groupbuy.ports)."""
    course_id: Id | None = None
    coupon_id: Id | None = None
    pay_via: Literal['miniapp', 'official_account'] = 'miniapp'


class ExpiringShort(Body):
    type: Literal['expiring_short']
    within_s: Annotated[int, Field(strict=True, ge=1, le=30 * 24 * 3600)]


class CampaignMembers(Body):
    type: Literal['campaign']
    campaign_id: Id


class Users(Body):
    type: Literal['users']
    user_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_EXPLICIT_USERS)]


class NewBroadcast(Body):
    segment: Annotated[Union[ExpiringShort, CampaignMembers, Users], Field(discriminator='type')]
    message: Text(500, min_length=1)


class InboxPage(Query):
    before_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None


class RefundList(Query):
    status: Literal[ATTENTION_STATUSES] | None = None


class Consents(Body):
    template_ids: Annotated[list[Text(64, min_length=1)],
                            Field(min_length=1, max_length=20)]
