/* A campaign: the course and its price, 我来开团 (open a group, consent to messages, pay), and 凑团 —
 * groups still short, closest to filling first (GET /api/campaigns/<id>/open-groups). */
const api = require('../../utils/api')
const checkout = require('../../utils/checkout')
const { ServerClock, countdownText } = require('../../utils/clock')
const { yuan, timeLeft, errorText } = require('../../utils/words')

function campaignView(c) {
  const leader = c.leader_price_fen
  return {
    id: c.id, title: c.course.title, cover: c.course.cover_url || '', size: c.group_size,
    duration: timeLeft(c.duration_s), price: yuan(c.group_price_fen),
    listPrice: c.course.price_fen > c.group_price_fen ? yuan(c.course.price_fen) : '',
    leaderPrice: leader === null || leader === undefined ? null : leader,
    leaderLine: leader === 0 ? '团长免单' : leader !== null && leader !== undefined && leader !== c.group_price_fen
      ? `团长价 ¥${yuan(leader)}` : '',
    tiers: (c.tiers || []).map(t => ({ size: t.size, price: yuan(t.price_fen) })),
    courses: (c.courses || []).map(k => ({ id: k.id, title: k.title })),
  }
}

Component({
  data: {
    loading: true, error: '', campaign: null, openGroups: [], picked: null, busy: false, notice: '', openLabel: '我来开团',
  },

  methods: {
    onLoad(query) {
      this.campaignId = Number(query.id)
      this.clock = new ServerClock()
      this.templates = {}
      checkout.loadTemplates().then(t => { this.templates = t })
      this.load()
      this.ticker = setInterval(() => this.tick(), 1000)
    },

    onUnload() {
      clearInterval(this.ticker)
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },

    load() {
      if (!(this.campaignId > 0)) {
        this.setData({ loading: false, error: '没有找到这个活动' })
        return Promise.resolve()
      }
      const id = this.campaignId
      return Promise.all([
        api.call('GET', `/api/campaigns/${id}`, undefined, { auth: 'none' }),
        api.call('GET', `/api/campaigns/${id}/open-groups`, undefined, { auth: 'none' }),
      ]).then(([one, open]) => {
        const campaign = campaignView(one.campaign)
        this.clock.sync(open.server_time)
        this.groups = open.groups
        const price = campaign.leaderPrice === null ? campaign.price : yuan(campaign.leaderPrice)
        this.setData({
          loading: false, campaign, picked: campaign.courses.length > 1 ? campaign.courses[0].id : null,
          openLabel: campaign.leaderPrice === 0 ? '免费开团' : `¥${price} 我来开团`,
        })
        wx.setNavigationBarTitle({ title: campaign.title })
        this.tick()
      }, err => this.setData({ loading: false, error: errorText(err) }))
    },

    tick() {
      if (!this.groups) return
      const now = this.clock.now()
      this.setData({
        openGroups: this.groups.map(g => {
          const nickname = (g.leader && g.leader.nickname) || '微信用户'
          return {
            code: g.share_code, leader: nickname, initial: nickname.slice(0, 1), avatar: (g.leader && g.leader.avatar_url) || '',
            seatsLeft: g.seats_left, countdown: countdownText(g.deadline_at, now) || '已截止',
          }
        }),
      })
    },

    pick(e) {
      this.setData({ picked: e.currentTarget.dataset.id })
    },

    /* 我来开团: consents first (WeChat wants them straight from the tap), then the group, then the cashier;
     * the group's page follows whether or not the payment went through (it offers 继续支付). */
    openGroup() {
      if (this.data.busy) return
      this.setData({ busy: true, notice: '' })
      const body = { campaign_id: this.campaignId }
      if (this.data.picked) body.course_id = this.data.picked
      checkout.askConsents(checkout.templatesFor(this.templates, 'open'))
        .then(() => api.call('POST', '/api/groups', body))
        .then(opened => {
          const code = opened.group.share_code
          getApp().globalData.checkouts[code] = opened
          return checkout.pay(opened).then(() => {
            delete getApp().globalData.checkouts[code]
            return code
          }, err => {
            if (!checkout.cancelled(err)) throw err
            return code
          })
        })
        .then(code => {
          this.setData({ busy: false })
          wx.navigateTo({ url: '/pages/group/index?code=' + code })
        })
        .catch(err => this.setData({ busy: false, notice: err && err.errMsg ? '支付没有完成，请重试' : errorText(err) }))
    },

    joinOpenGroup(e) {
      wx.navigateTo({ url: '/pages/group/index?code=' + e.currentTarget.dataset.code })
    },

    onShareAppMessage() {
      const c = this.data.campaign
      return c ? { title: `¥${c.price} 拼《${c.title}》`, path: '/pages/campaign/index?id=' + c.id } : {}
    },
  },
})
