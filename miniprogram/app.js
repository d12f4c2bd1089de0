/* The app: signs in silently at launch (wx.login → /api/auth/wxlogin), carrying the share the app was
 * opened on, so a newcomer is counted as the sharer's (README "Sharing"). */
const api = require('./utils/api')
const { entryOf } = require('./utils/share_entry')

App({
  globalData: {
    checkouts: {},  // share code → the checkout whose payment is not finished yet (继续支付)
  },

  onLaunch(options) {
    this.remember(options)
    api.signIn().catch(() => {})  // pages sign in again when they need to; a failure here is not fatal
  },

  onShow(options) {
    this.remember(options)  // a hot start from another share
  },

  remember(options) {
    const entry = entryOf((options && options.query) || {})
    if (entry.code) api.setReferral({ from: entry.from, share_code: entry.code })
  },
})
