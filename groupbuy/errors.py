"""Domain errors. Each carries a stable `code` that the API returns and clients branch on."""


class DomainError(Exception):
    code = 'domain_error'

    def __init__(self, message: str = '', **details):
        super().__init__(message or self.__doc__ or self.code)
        self.message = message or (self.__doc__ or self.code).strip()
        self.details = details


class InvalidInput(DomainError):
    """The request is malformed or a value is out of range."""
    code = 'invalid_input'


class NotFound(DomainError):
    """No such thing."""
    code = 'not_found'


class Forbidden(DomainError):
    """This belongs to someone else."""
    code = 'forbidden'


class CampaignNotActive(DomainError):
    """The campaign is not running now."""
    code = 'campaign_not_active'


class GroupFull(DomainError):
    """Every seat in this group is taken."""
    code = 'group_full'


class GroupClosed(DomainError):
    """The group is not taking members (not open yet, finished or past its deadline)."""
    code = 'group_closed'


class AlreadyJoined(DomainError):
    """You already hold a seat in this group."""
    code = 'already_joined'


class OwnGroup(DomainError):
    """You cannot join a group you opened."""
    code = 'own_group'


class LimitReached(DomainError):
    """A campaign limit (groups per user, or groups in the campaign) is reached."""
    code = 'limit_reached'


class AlreadyEnrolled(DomainError):
    """You already have this course."""
    code = 'already_enrolled'


class AlreadyBuying(DomainError):
    """You are already in a group for this course; it ends in the course or in a full refund."""
    code = 'already_buying'


class PaymentMismatch(DomainError):
    """A payment notification does not match the order (amount, app or merchant)."""
    code = 'payment_mismatch'


class PaymentUnavailable(DomainError):
    """The payment provider could not create the payment; nothing was charged."""
    code = 'payment_unavailable'


class InvalidTransition(DomainError):
    """That status change is not allowed from the current status."""
    code = 'invalid_transition'


class AccountConflict(DomainError):
    """These two WeChat accounts of one person cannot be joined automatically."""
    code = 'account_conflict'


class WeChatUnavailable(DomainError):
    """WeChat could not be reached or refused the call; nothing was changed."""
    code = 'wechat_unavailable'


class RiskRefused(DomainError):
    """暂时无法参加这个拼团，请稍后再试。如有疑问请联系客服。"""
    code = 'not_allowed'


class VerificationRequired(DomainError):
    """请先验证手机号，再参加拼团。"""
    code = 'verification_required'


# Warm-up live rooms (groupbuy/rooms)
class RoomClosed(DomainError):
    """这个直播间已结束。"""
    code = 'room_closed'


class Muted(DomainError):
    """你已被禁言，暂时不能在这个直播间提问。"""
    code = 'muted'


class SensitiveWords(DomainError):
    """内容包含不允许发布的词语，请修改后再发。"""
    code = 'sensitive_words'


class CouponUnavailable(DomainError):
    """The coupon is not the buyer's to spend on this checkout: not theirs, used, expired, or below its minimum."""
    code = 'coupon_unavailable'
