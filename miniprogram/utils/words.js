/* The words people read: prices, time left and dates written exactly as the server writes them
 * (groupbuy/wording.py; tests/e2e/test_miniprogram.py compares the two), and what an error code means
 * to a shopper. */
const { parseIso, pad } = require('./clock')

/* 9900 → '99', 9950 → '99.5', 9999 → '99.99', 1 → '0.01' (integer arithmetic: no float rounding on money). */
function yuan(fen) {
  const whole = Math.floor(fen / 100)
  const cents = fen % 100
  return cents ? (whole + '.' + (cents < 10 ? '0' : '') + cents).replace(/0$/, '') : String(whole)
}

/* 90061 → '1天1小时', 11520 → '3小时12分钟', 3600 → '1小时', 600 → '10分钟', 30 → '不到1分钟'. */
function timeLeft(seconds) {
  seconds = Math.floor(seconds)
  if (seconds <= 0) return '0分钟'
  const days = Math.floor(seconds / 86400)
  const hours = Math.floor((seconds % 86400) / 3600)
  const minutes = Math.floor((seconds % 3600) / 60)
  if (days) return hours ? `${days}天${hours}小时` : `${days}天`
  if (hours) return minutes ? `${hours}小时${minutes}分钟` : `${hours}小时`
  return minutes ? `${minutes}分钟` : '不到1分钟'
}

/* An API time in Beijing time (UTC+8 all year): '5月10日 20:00'; '' for none. */
function beijingTime(iso) {
  const t = parseIso(iso)
  if (isNaN(t)) return ''
  const d = new Date(t + 8 * 3600 * 1000)
  return `${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
}

const ERRORS = {
  network: '网络不太好，请稍后重试',
  group_full: '这个团满员了，自己开一个团吧',
  group_closed: '这个团已结束或还没开始',
  already_joined: '你已经在这个团里了',
  own_group: '这是你自己开的团，邀请好友来参团吧',
  limit_reached: '你在这个活动里的拼团已达上限',
  already_enrolled: '你已经拥有这门课了',
  already_buying: '你正在拼这门课（可在「我的拼团」查看）',
  campaign_not_active: '活动未开始或已结束',
  coupon_unavailable: '优惠券不可用',
  rate_limited: '操作太频繁，请稍后再试',
  payment_unavailable: '支付暂时不可用，没有扣款，请稍后再试',
  wechat_unavailable: '微信暂时不可用，请稍后再试',
  service_unavailable: '服务繁忙，请稍后再试',
  not_allowed: '暂时无法参团',
  verification_required: '请先绑定手机号再参团',
  not_found: '没有找到这个拼团',
  unauthorized: '登录已失效，请重试',
}

/* An ApiError (or a wx fail result) as a sentence for the shopper. */
function errorText(err) {
  if (err && err.code === 'rate_limited' && err.retryAfter) return `操作太频繁，请 ${err.retryAfter} 秒后再试`
  return (err && ERRORS[err.code]) || '出错了，请重试'
}

const GROUP_STATUS = {
  pending: '待团长付款', forming: '拼团中', reviewing: '确认中', succeeded: '已成团', failed: '未成团', cancelled: '已取消',
}
const ORDER_STATUS = {
  created: '待支付', paid: '已支付', fulfilled: '已开通', closed: '已关闭', refunding: '退款中', refunded: '已退款',
}

module.exports = { yuan, timeLeft, beijingTime, errorText, GROUP_STATUS, ORDER_STATUS }
