/* A group as its page shows it. `applyEvent` folds one live event into the group the way the H5 page does
 * (miniapp_api/static/pinke.js): a snapshot replaces it, every other event carries the counts, and
 * `member_joined` (or the leader's `group_formed`) the member to add. `viewOf` is what the WXML binds to. */
const { yuan } = require('./words')

const COUNTS = ['status', 'size', 'paid_count', 'reserved_count', 'seats_left', 'deadline_at', 'tier']

function applyEvent(group, type, event) {
  if (type === 'heartbeat') return group
  if (type === 'snapshot') return Object.assign({}, event, { my_seat: group ? group.my_seat : null })
  const next = Object.assign({}, group)
  COUNTS.forEach(key => { if (key in event) next[key] = event[key] })
  if (event.member && (type === 'member_joined' || (type === 'group_formed' && !group.members.length))) {
    next.members = group.members.concat([event.member])
  }
  if (type === 'group_failed' && event.refund) next.refund_timing = event.refund.timing
  return next
}

function holdsSeat(group) {
  const mine = group.my_seat
  return !!mine && mine.status !== 'released'
}

/* The page's state: the group's status, or 'full' for a forming group with no seat left for this viewer. */
function stateOf(group) {
  const taken = group.paid_count + (group.reserved_count || 0)
  if (group.status === 'forming' && taken >= group.size && !holdsSeat(group)) return 'full'
  return group.status
}

function seatsLine(group, state) {
  if (state !== 'forming') return ''
  const tier = group.tier
  const needed = Math.max((tier ? tier.tiers[0].size : group.size) - group.paid_count, 0)
  if (needed) return `还差 ${needed} 人成团`
  if (tier && tier.next) return `已成团！再 ${tier.next.more} 人每人降到 ¥${yuan(tier.next.price_fen)}`
  return group.seats_left ? '' : '名额已满，等待付款'
}

function memberCell(member, index) {
  const nickname = member.nickname || '微信用户'
  return {
    key: index, nickname, avatar: member.avatar_url || '', initial: nickname.slice(0, 1),
    leader: member.role === 'leader',
  }
}

function viewOf(group) {
  const state = stateOf(group)
  const mine = group.my_seat
  const campaign = group.campaign || {}
  const course = campaign.course || {}
  const open = state === 'forming' ? Math.max(group.size - group.members.length, 0) : 0
  const emptySeats = []
  for (let i = 0; i < open; i++) emptySeats.push(i)
  const price = group.price_fen
  return {
    state,
    courseTitle: course.title || '',
    cover: course.cover_url || '',
    price: yuan(price),
    listPrice: course.price_fen > price ? yuan(course.price_fen) : '',
    leaderPrice: group.leader_price_fen !== null && group.leader_price_fen !== undefined && group.leader_price_fen !== price
      ? yuan(group.leader_price_fen) : '',
    seatsLine: seatsLine(group, state),
    progressPct: Math.min(100, Math.round((100 * group.paid_count) / group.size)),
    progressText: `${group.paid_count}/${group.size}`,
    payingText: group.reserved_count ? `${group.reserved_count} 人正在支付` : '',
    members: group.members.map(memberCell),
    emptySeats,
    tierLine: tierLine(group.tier),
    canJoin: state === 'forming' && !holdsSeat(group),
    joined: state === 'forming' && !!mine && mine.status === 'paid',
    waiting: (state === 'forming' || state === 'pending') && !!mine && mine.status === 'reserved',
    isLeader: !!mine && mine.role === 'leader',
    paidSeat: !!mine && mine.status === 'paid',
    confirming: !!mine && mine.status === 'reserved',  // paid at the cashier, WeChat's word on its way
    courses: (campaign.courses || []).length > 1 ? campaign.courses.map(c => ({ id: c.id, title: c.title })) : [],
    refundTiming: group.refund_timing || '',
  }
}

function tierLine(tier) {
  if (!tier) return ''
  const head = tier.next && tier.reached ? `再 ${tier.next.more} 人，每人降到 ¥${yuan(tier.next.price_fen)}`
    : tier.next ? `${tier.tiers[0].size} 人成团，人越多越便宜` : `已达最低价 ¥${yuan(tier.price_now_fen)}`
  return head + ' · 结束时按最终人数退还差价'
}

module.exports = { applyEvent, viewOf, stateOf }
