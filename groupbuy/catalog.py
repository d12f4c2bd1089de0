"""Courses and campaigns: what operators sell and on what group-buy terms."""
import datetime as dt
import functools
from dataclasses import dataclass

from peewee import prefetch

from . import errors, rewards
from . import tiers as tiers_of
from .db import transaction
from .models import Campaign, CampaignCourse, CampaignVariant, Course, Group
from .prepared import Prepared
from .risk.rules import RuleConfig

CAMPAIGN_STATUSES = ('draft', 'active', 'paused', 'ended')
# Allowed operator moves; 'ended' is final so a finished campaign cannot be sold again by mistake.
CAMPAIGN_MOVES = {'draft': {'active', 'ended'}, 'active': {'paused', 'ended'},
                  'paused': {'active', 'ended'}, 'ended': set()}


def create_course(title: str, price_fen: int, cover_url: str = '') -> Course:
    return Course.create(title=title.strip(), price_fen=price_fen, cover_url=cover_url)


def get_course(course_id: int) -> Course:
    course = Course.get_or_none(Course.id == course_id)
    if course is None:
        raise errors.NotFound(f'course {course_id} not found')
    return course


def create_campaign(*, course_id: int, duration_s: int, group_size: int | None = None,
                    group_price_fen: int | None = None,
                    leader_price_fen: int | None = None, starts_at: dt.datetime | None = None,
                    ends_at: dt.datetime | None = None, max_groups: int | None = None,
                    per_user_limit: int = 1, new_users_only: bool = False,
                    auto_complete_ratio: float | None = None, status: str = 'active',
                    nudge_offsets_s: list[int] | None = None, variants: list[dict] | None = None,
                    tiers: list[dict] | None = None, reward: dict | None = None,
                    extra_course_ids: list[int] | None = None, band_low_fen: int | None = None,
                    band_high_fen: int | None = None) -> Campaign:
    """Create a campaign for a course. Raises NotFound, InvalidInput (prices above the course
    price, an end before the start, variants that do not make an A/B test). `variants`
    ([{name, weight, group_size, duration_s, group_price_fen, leader_price_fen}]) make it an A/B test of
    group rules: each new group takes its leader's variant (groupbuy/experiments.py); without them every
    group takes the campaign's own rules. `tiers` ([{size, price_fen}]) make every group tiered (groupbuy/tiers.py:
    its size is the largest tier, its price the smallest tier's); `reward` what a referrer earns (groupbuy/rewards.py);
    `extra_course_ids` with a price band make it cross-course (each member picks one of the courses)."""
    course = get_course(course_id)
    _check_variants(course, variants or [])
    courses = _check_courses(course, extra_course_ids or [], band_low_fen, band_high_fen)
    if not tiers and (group_size is None or group_price_fen is None):
        raise errors.InvalidInput('a campaign without tiers sets group_size and group_price_fen', field='group_size')
    if tiers:
        group_size, group_price_fen = _check_tiers(tiers, min(c.price_fen for c in courses), variants,
                                                   auto_complete_ratio)
    _check_terms(course, {'group_price_fen': group_price_fen, 'leader_price_fen': leader_price_fen,
                          'starts_at': starts_at, 'ends_at': ends_at}, courses)
    reward_json = rewards.check_terms(reward, field='reward')
    if status not in ('draft', 'active'):
        raise errors.InvalidInput('a new campaign is draft or active', field='status')
    with transaction():  # the campaign and its variants, or nothing
        campaign = Campaign.create(course=course, group_size=group_size, duration_s=duration_s,
                                   group_price_fen=group_price_fen, leader_price_fen=leader_price_fen,
                                   starts_at=starts_at, ends_at=ends_at, max_groups=max_groups,
                                   per_user_limit=per_user_limit, new_users_only=new_users_only,
                                   auto_complete_ratio=auto_complete_ratio, status=status,
                                   nudge_offsets=','.join(str(x) for x in (nudge_offsets_s if nudge_offsets_s
                                                                           is not None else (7200, 900))),
                                   tiers=tiers_of.dump(tiers_of.check(tiers, course.price_fen)) if tiers else None,
                                   reward=reward_json, band_low_fen=band_low_fen if extra_course_ids else None,
                                   band_high_fen=band_high_fen if extra_course_ids else None)
        for extra in courses[1:]:
            CampaignCourse.create(campaign=campaign, course=extra)
        for v in variants or []:
            CampaignVariant.create(campaign=campaign, name=v['name'], weight=v.get('weight', 1),
                                   group_size=v['group_size'], duration_s=v['duration_s'],
                                   group_price_fen=v['group_price_fen'], leader_price_fen=v.get('leader_price_fen'))
    return campaign


def _check_tiers(tiers: list[dict], cheapest_fen: int, variants, auto_complete_ratio) -> tuple[int, int]:
    """A tiered campaign's group size (its largest tier) and member price (its smallest tier's)."""
    if variants:
        raise errors.InvalidInput('a tiered campaign is not an A/B test of group rules', field='tiers')
    if auto_complete_ratio is not None:
        raise errors.InvalidInput('a tiered group succeeds at its smallest tier; it takes no auto-complete ratio',
                                  field='auto_complete_ratio')
    try:
        checked = tiers_of.check(tiers, cheapest_fen)
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.InvalidInput(str(exc), field='tiers') from None
    return checked[-1].size, checked[0].price_fen


def _check_courses(course: Course, extra_ids: list[int], low: int | None, high: int | None) -> list[Course]:
    """The campaign's courses, its own first. Further courses make it cross-course: each must exist, be on sale
    and be listed at a price inside the band the campaign sets (the main course too), so a group's members pay
    one group price for courses of similar worth."""
    if not extra_ids:
        return [course]
    if low is None or high is None or not 1 <= low <= high:
        raise errors.InvalidInput('a cross-course campaign sets its price band (band_low_fen ≤ band_high_fen)',
                                  field='band_low_fen')
    if len(set(extra_ids)) != len(extra_ids) or course.id in extra_ids:
        raise errors.InvalidInput('each course is listed once', field='extra_course_ids')
    extras = {c.id: c for c in Course.select().where(Course.id.in_(extra_ids))}
    courses = [course] + [extras.get(i) for i in extra_ids]
    for i, c in enumerate(courses):
        field = 'course_id' if i == 0 else f'extra_course_ids.{i - 1}'
        if c is None:
            raise errors.NotFound(f'course {extra_ids[i - 1]} not found')
        if c.status != 'active':
            raise errors.InvalidInput(f'course {c.id} is {c.status}', field=field)
        if not low <= c.price_fen <= high:
            raise errors.InvalidInput(f'course {c.id} costs {c.price_fen} fen, outside the band {low}–{high}',
                                      field=field)
    return courses


def is_cross_course(campaign: Campaign) -> bool:
    return campaign.band_low_fen is not None  # set exactly when it has further courses


def courses_of(campaign: Campaign) -> list[Course]:
    """What a member may pick: the campaign's course, then its further courses (a cross-course campaign). No query
    for a single-course campaign; one for a cross-course one."""
    if not is_cross_course(campaign):
        return [campaign.course]
    extra = [link.course for link in CampaignCourse.select(CampaignCourse, Course).join(Course)
             .where(CampaignCourse.campaign == campaign.id).order_by(CampaignCourse.id)]
    return [campaign.course] + extra


def pick_course(campaign: Campaign, course_id: int | None) -> int:
    """The course a member buys: the one they picked, which must be one of the campaign's, else its own."""
    if course_id is None or course_id == campaign.course_id:
        return campaign.course_id
    if not CampaignCourse.select().where(CampaignCourse.campaign == campaign.id,
                                         CampaignCourse.course == course_id).exists():
        raise errors.InvalidInput(f'course {course_id} is not one of this campaign\'s courses', field='course_id')
    return course_id


def _check_variants(course: Course, variants: list[dict]) -> None:
    """An A/B test needs two or more variants with distinct names, each a rule set a group can run on."""
    if not variants:
        return
    if len(variants) < 2:
        raise errors.InvalidInput('an A/B test needs at least two variants', field='variants')
    names = [v['name'] for v in variants]
    if len(set(names)) != len(names):
        raise errors.InvalidInput('variant names must be unique', field='variants')
    for i, v in enumerate(variants):
        field = f'variants.{i}'
        if not 1 <= len(v['name']) <= CampaignVariant.name.max_length:
            raise errors.InvalidInput(f'a variant name is 1 to {CampaignVariant.name.max_length} characters',
                                      field=f'{field}.name')
        for name, least in (('weight', 1), ('group_size', 2), ('duration_s', 1), ('group_price_fen', 1)):
            if v.get(name, 1) < least:
                raise errors.InvalidInput(f'{name} must be at least {least}', field=f'{field}.{name}')
        for name in ('group_price_fen', 'leader_price_fen'):
            if v.get(name) is not None and v[name] > course.price_fen:
                raise errors.InvalidInput(f'{name} must not exceed the course price', field=f'{field}.{name}')


def get_campaign(campaign_id: int) -> Campaign:
    campaign = (Campaign.select(Campaign, Course).join(Course)
                .where(Campaign.id == campaign_id).first())
    if campaign is None:
        raise errors.NotFound(f'campaign {campaign_id} not found')
    return campaign


def set_campaign_status(campaign_id: int, status: str) -> Campaign:
    """Move a campaign (draft/active/paused/ended). Raises NotFound, InvalidTransition.
    Live groups keep running to their deadline: pausing stops new groups and joins only."""
    campaign = get_campaign(campaign_id)
    if status not in CAMPAIGN_STATUSES:
        raise errors.InvalidInput(f'status must be one of {", ".join(CAMPAIGN_STATUSES)}', field='status')
    if status != campaign.status:
        if status not in CAMPAIGN_MOVES[campaign.status]:
            raise errors.InvalidTransition(f'cannot move a campaign from {campaign.status} to {status}')
        Campaign.update(status=status).where(Campaign.id == campaign.id).execute()
        campaign.status = status
    return campaign


def list_selling_campaigns(now: dt.datetime) -> list[Campaign]:
    """Active campaigns inside their time window, newest first: what a shopper can buy now (with their
    variants, read in one more query for all of them)."""
    query = (Campaign.select(Campaign, Course).join(Course)
             .where(Campaign.status == 'active',
                    (Campaign.starts_at.is_null()) | (Campaign.starts_at <= now),
                    (Campaign.ends_at.is_null()) | (Campaign.ends_at > now))
             .order_by(Campaign.id.desc()))
    return list(prefetch(query, CampaignVariant))


def ensure_selling(campaign: Campaign, now: dt.datetime) -> None:
    """Raises CampaignNotActive unless the campaign sells now."""
    if campaign.status != 'active':
        raise errors.CampaignNotActive(f'campaign {campaign.id} is {campaign.status}')
    if campaign.starts_at and now < campaign.starts_at:
        raise errors.CampaignNotActive(f'campaign {campaign.id} has not started yet')
    if campaign.ends_at and now >= campaign.ends_at:
        raise errors.CampaignNotActive(f'campaign {campaign.id} has ended')


def groups_opened(campaign: Campaign) -> int:
    """Groups that count against max_groups: all but those cancelled before the leader paid."""
    return Group.select().where(Group.campaign == campaign, Group.status != 'cancelled').count()


@dataclass(frozen=True)
class GroupRules:
    """The rules a new group is opened with — its campaign's own, or its variant's — and keeps to its end."""
    size: int
    duration_s: int
    price_fen: int         # what a member pays
    leader_price_fen: int  # what the leader pays: the leader price if one is set, else the member price (0: free)
    variant: str | None    # the variant's name; None for a campaign's own rules
    tiers: tuple = ()      # a tiered group's tiers (groupbuy/tiers.py)


def rules_of(terms: Campaign | CampaignVariant) -> GroupRules:
    """A campaign's or a variant's terms (the same fields) as a group's rules."""
    return GroupRules(size=terms.group_size, duration_s=terms.duration_s, price_fen=terms.group_price_fen,
                      leader_price_fen=(terms.group_price_fen if terms.leader_price_fen is None
                                        else terms.leader_price_fen),
                      variant=terms.name if isinstance(terms, CampaignVariant) else None,
                      tiers=() if isinstance(terms, CampaignVariant) else tiers_of.parse(terms.tiers))


_VARIANTS = Prepared(lambda campaign_id: CampaignVariant.select().where(CampaignVariant.campaign == campaign_id)
                     .order_by(CampaignVariant.id), campaign_id=int)


def variants_of(campaign: Campaign) -> list[CampaignVariant]:
    """The campaign's variants in the order they were defined (none: not an A/B test); not to be changed by the
    caller. Every join's answer shows them, and they are written once, with their campaign (`create_campaign`, in
    its transaction), so they are read once per campaign and process — keyed by the campaign's id *and* creation
    time, so a database restored or emptied under a running process is never answered from another campaign's
    list — or not at all when the campaign came with them prefetched (`list_selling_campaigns`)."""
    prefetched = vars(campaign).get('variants')  # peewee's prefetch sets the list on the instance
    if prefetched is not None:
        return sorted(prefetched, key=lambda v: v.id)
    return list(_variants(campaign.id, campaign.created_at))


@functools.lru_cache(maxsize=1024)
def _variants(campaign_id: int, created_at) -> tuple[CampaignVariant, ...]:
    return tuple(_VARIANTS.rows(campaign_id=campaign_id))


# What an operator may change once a campaign is live. Every group keeps the size, duration and prices it was
# opened with (Group.size, duration_s, price_fen), so those change new groups only; the course, the start and
# the auto-complete ratio (read when a live group's deadline is decided) stay as they were.
LIVE_EDITABLE = ('group_size', 'duration_s', 'group_price_fen', 'leader_price_fen', 'ends_at', 'max_groups',
                 'per_user_limit', 'new_users_only', 'nudge_offsets_s')
EDITABLE = LIVE_EDITABLE + ('starts_at', 'auto_complete_ratio')


def list_courses() -> list[Course]:
    return list(Course.select().order_by(Course.id.desc()))


def list_campaigns(status: str | None = None) -> list[Campaign]:
    query = Campaign.select(Campaign, Course).join(Course)
    if status:
        query = query.where(Campaign.status == status)
    return list(query.order_by(Campaign.id.desc()))


def campaign_terms(campaign: Campaign) -> dict:
    """The editable terms as `create_campaign` takes them (the form's values, the log's before/after)."""
    terms = {name: getattr(campaign, name) for name in EDITABLE if name != 'nudge_offsets_s'}
    terms['nudge_offsets_s'] = [int(x) for x in (campaign.nudge_offsets or '').split(',') if x.strip()]
    return terms


def update_campaign(campaign_id: int, changes: dict) -> tuple[dict, Campaign]:
    """Change a campaign's terms; a live (not draft) one only in LIVE_EDITABLE. Returns (terms before,
    campaign). Raises NotFound, InvalidInput, InvalidTransition (an ended campaign, a locked field)."""
    campaign = get_campaign(campaign_id)
    if campaign.status == 'ended':
        raise errors.InvalidTransition('an ended campaign is not edited; clone it instead')
    allowed = EDITABLE if campaign.status == 'draft' else LIVE_EDITABLE
    before = campaign_terms(campaign)
    changed = {k: v for k, v in changes.items() if k in EDITABLE and v != before.get(k)}
    locked = sorted(set(changed) - set(allowed))
    if locked:
        raise errors.InvalidTransition(f'{", ".join(locked)} cannot change once the campaign is live')
    from_tiers = sorted({'group_size', 'group_price_fen'} & set(changed)) if campaign.tiers else []
    if from_tiers:
        raise errors.InvalidInput(f'a tiered campaign takes {", ".join(from_tiers)} from its tiers', field=from_tiers[0])
    if campaign.tiers and changed.get('auto_complete_ratio') is not None:
        raise errors.InvalidInput('a tiered group succeeds at its smallest tier; it takes no auto-complete ratio',
                                  field='auto_complete_ratio')
    terms = {**before, **changed}
    _check_terms(campaign.course, terms, courses_of(campaign))
    if changed:
        row = {k: v for k, v in changed.items() if k != 'nudge_offsets_s'}
        if 'nudge_offsets_s' in changed:
            row['nudge_offsets'] = ','.join(str(x) for x in changed['nudge_offsets_s'])
        Campaign.update(row).where(Campaign.id == campaign.id).execute()
    return before, get_campaign(campaign.id)


def clone_campaign(campaign_id: int) -> Campaign:
    """A draft copy of a campaign's terms and A/B variants (a new season of a campaign that worked)."""
    source = get_campaign(campaign_id)
    variants = [{name: getattr(v, name) for name in ('name', 'weight', 'group_size', 'duration_s', 'group_price_fen',
                                                     'leader_price_fen')} for v in variants_of(source)]
    growth = {'tiers': [{'size': t.size, 'price_fen': t.price_fen} for t in tiers_of.parse(source.tiers)],
              'reward': rewards.terms_of(source), 'extra_course_ids': [c.id for c in courses_of(source)[1:]],
              'band_low_fen': source.band_low_fen, 'band_high_fen': source.band_high_fen}
    terms = {k: v for k, v in campaign_terms(source).items() if k not in ('starts_at',)}
    if growth['tiers']:  # a tiered campaign's size and price come from its tiers
        terms.pop('group_size'), terms.pop('group_price_fen')
    return create_campaign(course_id=source.course_id, status='draft', variants=variants, **terms, **growth)


def _check_terms(course: Course, terms: dict, courses: list[Course] | None = None) -> None:
    cheapest = min(c.price_fen for c in courses or [course])
    for name in ('group_price_fen', 'leader_price_fen'):
        if terms.get(name) is not None and terms[name] > cheapest:
            raise errors.InvalidInput(f'{name} must not exceed the course price'
                                      + (' of the cheapest course' if courses and len(courses) > 1 else ''), field=name)
    if terms.get('starts_at') and terms.get('ends_at') and terms['ends_at'] <= terms['starts_at']:
        raise errors.InvalidInput('ends_at must be after starts_at', field='ends_at')


def set_risk_rules(campaign_id: int, raw_json: str | None) -> Campaign:
    """A campaign's changes to the default risk rules (JSON, groupbuy/risk/rules.py; empty: the defaults).
    Raises NotFound, InvalidInput (unknown settings, values out of range)."""
    try:
        RuleConfig.from_json(raw_json or None)
    except ValueError as exc:
        raise errors.InvalidInput(str(exc), field='risk_rules') from None
    campaign = get_campaign(campaign_id)
    Campaign.update(risk_rules=raw_json or None).where(Campaign.id == campaign.id).execute()
    return get_campaign(campaign_id)
