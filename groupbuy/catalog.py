"""Courses and campaigns: what operators sell and on what group-buy terms."""
import datetime as dt

from . import errors
from .models import Campaign, Course, Group

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


def create_campaign(*, course_id: int, group_size: int, duration_s: int, group_price_fen: int,
                    leader_price_fen: int | None = None, starts_at: dt.datetime | None = None,
                    ends_at: dt.datetime | None = None, max_groups: int | None = None,
                    per_user_limit: int = 1, new_users_only: bool = False,
                    auto_complete_ratio: float | None = None, status: str = 'active',
                    nudge_offsets_s: list[int] | None = None) -> Campaign:
    """Create a campaign for a course. Raises NotFound, InvalidInput (prices above the course
    price, an end before the start)."""
    course = get_course(course_id)
    if group_price_fen > course.price_fen:
        raise errors.InvalidInput('group_price_fen must not exceed the course price', field='group_price_fen')
    if leader_price_fen is not None and leader_price_fen > course.price_fen:
        raise errors.InvalidInput('leader_price_fen must not exceed the course price', field='leader_price_fen')
    if starts_at and ends_at and ends_at <= starts_at:
        raise errors.InvalidInput('ends_at must be after starts_at', field='ends_at')
    if status not in ('draft', 'active'):
        raise errors.InvalidInput('a new campaign is draft or active', field='status')
    return Campaign.create(course=course, group_size=group_size, duration_s=duration_s,
                           group_price_fen=group_price_fen, leader_price_fen=leader_price_fen,
                           starts_at=starts_at, ends_at=ends_at, max_groups=max_groups,
                           per_user_limit=per_user_limit, new_users_only=new_users_only,
                           auto_complete_ratio=auto_complete_ratio, status=status,
                           nudge_offsets=','.join(str(x) for x in (nudge_offsets_s if nudge_offsets_s is not None
                                                                   else (7200, 900))))


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
    """Active campaigns inside their time window, newest first: what a shopper can buy now."""
    query = (Campaign.select(Campaign, Course).join(Course)
             .where(Campaign.status == 'active',
                    (Campaign.starts_at.is_null()) | (Campaign.starts_at <= now),
                    (Campaign.ends_at.is_null()) | (Campaign.ends_at > now))
             .order_by(Campaign.id.desc()))
    return list(query)


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


def price_for(campaign: Campaign, role: str) -> int:
    """What a seat costs: the leader price for the one who opens (if set), else the group price."""
    if role == 'leader' and campaign.leader_price_fen is not None:
        return campaign.leader_price_fen
    return campaign.group_price_fen
