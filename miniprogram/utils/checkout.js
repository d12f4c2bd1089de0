/* Opening or joining ends in WeChat's two sheets: the subscribe-message consent (asked first, straight
 * from the tap, as WeChat requires; the ids come from GET /api/message-templates) and the cashier
 * (wx.requestPayment with the fields the server signed). */
const api = require('./api')
const { wxp } = require('./wxp')

/* What a shopper wants to hear about (WeChat shows at most three templates at once). */
const WANTED = {
  open: ['member_joined', 'group_succeeded', 'group_failed'],
  join: ['group_succeeded', 'group_failed', 'deadline_nudge'],
}

function loadTemplates() {
  return api.call('GET', '/api/message-templates', undefined, { auth: 'none' }).then(body => body.templates, () => ({}))
}

function templatesFor(templates, action) {
  const ids = []
  WANTED[action].forEach(kind => {
    const id = templates && templates[kind]
    if (id && ids.indexOf(id) < 0) ids.push(id)
  })
  return ids.slice(0, 3)
}

/* Ask for the consents and tell the server which were given. Never fails: a shopper may say no. */
function askConsents(ids) {
  if (!ids.length) return Promise.resolve([])
  return new Promise(resolve => {
    wx.requestSubscribeMessage({
      tmplIds: ids,
      success: res => resolve(ids.filter(id => res[id] === 'accept')),
      fail: () => resolve([]),
    })
  }).then(accepted => (accepted.length
    ? api.call('POST', '/api/me/subscriptions', { template_ids: accepted }).then(() => accepted, () => accepted)
    : accepted))
}

/* Pay a checkout: 'paid', or 'free' for a free leader (nothing to pay). Rejects with the cashier's
 * result ({errMsg}; 'requestPayment:fail cancel' when the shopper closed it). */
function pay(checkout) {
  const p = checkout.pay_params
  if (!p) return Promise.resolve('free')
  return wxp('requestPayment', {
    timeStamp: p.timeStamp, nonceStr: p.nonceStr, package: p.package, signType: p.signType, paySign: p.paySign,
  }).then(() => 'paid')
}

function cancelled(err) {
  return !!err && /cancel/.test(err.errMsg || '')
}

module.exports = { loadTemplates, templatesFor, askConsents, pay, cancelled }
