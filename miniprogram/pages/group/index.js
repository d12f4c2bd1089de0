/* A group: countdown against server time, the avatar row growing live (LiveStream), progress, seats left,
 * "N 人正在支付" and the end states; joining (consents, then the cashier), sharing (onShareAppMessage from
 * GET /api/groups/<code>/share) and the poster. Opened from a card (?code=&from=), a poster's code
 * (?scene=<code>.<sharer>) or inside the app (?code=). */
const api = require('../../utils/api')
const checkout = require('../../utils/checkout')
const { ServerClock, countdownText } = require('../../utils/clock')
const { applyEvent, viewOf } = require('../../utils/group_view')
const { LiveStream } = require('../../utils/live')
const { entryOf } = require('../../utils/share_entry')
const { yuan, beijingTime, errorText } = require('../../utils/words')

const DEFAULT_NICKNAME = '微信用户'

Component({
  data: {
    loading: true, missing: '', view: null, countdown: '', notice: '', busy: false, poster: '',
    askNickname: false, picked: null, canContinuePay: false, reservedUntil: '', refundLine: '',
  },

  methods: {
    onLoad(query) {
      const entry = entryOf(query)
      this.code = entry.code
      this.clock = new ServerClock()
      this.templates = {}
      if (!this.code) {
        this.setData({ loading: false, missing: '没有找到这个拼团' })
        return
      }
      wx.showShareMenu({ menus: ['shareAppMessage'] })
      if (entry.channel) {  // opened through a share: count the click (once per visitor, server-side)
        api.call('POST', `/api/groups/${this.code}/clicks`, { from: entry.from, channel: entry.channel }, { auth: 'optional' })
          .catch(() => {})
      }
      checkout.loadTemplates().then(t => { this.templates = t })
      this.live = new LiveStream(`/api/groups/${this.code}/events`, (type, event) => this.apply(type, event))
      api.signIn().catch(() => null)
        .then(() => api.call('GET', `/api/groups/${this.code}`, undefined, { auth: 'optional' }))
        .then(group => {
          this.clock.sync(group.server_time)
          this.group = group
          const user = api.cachedUser()
          this.setData({ loading: false, askNickname: !!user && user.nickname === DEFAULT_NICKNAME })
          this.render()
          this.afterChange()
          if (!this.hidden) this.live.open()
        }, err => this.setData({ loading: false, missing: err.status === 404 ? '没有找到这个拼团' : errorText(err) }))
      this.ticker = setInterval(() => this.tick(), 1000)
    },

    onShow() {
      this.hidden = false
      if (this.group && this.live) this.live.open()  // back from another page: catch up by Last-Event-ID
    },

    onHide() {
      this.hidden = true
      if (this.live) this.live.close()
    },

    onUnload() {
      clearInterval(this.ticker)
      clearTimeout(this.settleCheck)
      if (this.live) this.live.close()
    },

    /* one live event (or a snapshot) folded into the group */
    apply(type, event) {
      if (!this.group) return
      this.clock.sync(event.server_time)
      const before = this.group
      this.group = applyEvent(before, type, event)
      this.render()
      if (before.paid_count !== this.group.paid_count || before.status !== this.group.status) this.afterChange()
    },

    /* My seat (and, for a failed group, my refund) are not in the public events: ask when they may have moved. */
    afterChange() {
      const mine = this.group.my_seat
      if (!mine) return
      if (mine.status === 'reserved') this.refreshMine()
      if (this.group.status === 'failed' && mine.order_id) this.loadRefund(mine.order_id)
    },

    refreshMine() {
      return api.call('GET', `/api/groups/${this.code}`, undefined, { auth: 'optional' }).then(g => {
        this.group = Object.assign({}, this.group, { my_seat: g.my_seat || null })
        if (g.my_seat && g.my_seat.status === 'paid') delete getApp().globalData.checkouts[this.code]
        this.render()
      }, () => {})
    },

    loadRefund(orderId) {
      api.call('GET', `/api/orders/${orderId}`).then(({ order }) => {
        const refund = order.refund  // null for a moment: a failed group's refunds start right after it fails
        if (!order.amount_fen) return  // a free leader paid nothing
        this.setData({
          refundLine: refund && refund.status === 'succeeded' ? `已退款 ¥${yuan(refund.amount_fen)}，原路退回`
            : `已为你申请退款 ¥${yuan(refund ? refund.amount_fen : order.amount_fen)}，${this.group.refund_timing || '原路退回，1–3 个工作日到账'}`,
        })
      }, () => {})
    },

    render() {
      const view = viewOf(this.group)
      const mine = this.group.my_seat
      const pending = getApp().globalData.checkouts[this.code]
      this.setData({
        view,
        canContinuePay: !!pending && view.waiting,
        reservedUntil: mine && mine.reserved_until ? beijingTime(mine.reserved_until).split(' ')[1] : '',
        picked: this.data.picked || (view.courses.length ? view.courses[0].id : null),
      })
      this.tick()
    },

    tick() {
      const g = this.group
      if (!g) return
      if (g.status !== 'forming' || !g.deadline_at) {
        if (this.data.countdown) this.setData({ countdown: '' })
        return
      }
      const text = countdownText(g.deadline_at, this.clock.now())
      if (text === null && !this.settleCheck) {  // past the deadline: the result is on its way; look once more
        this.settleCheck = setTimeout(() => {
          this.settleCheck = null
          if (!this.hidden) this.live.resync()
        }, 5000)
      }
      this.setData({ countdown: text === null ? '已截止，正在结算…' : text })
    },

    pick(e) {
      this.setData({ picked: e.currentTarget.dataset.id })
    },

    saveNickname(e) {
      const nickname = ((e.detail && e.detail.value) || '').trim()
      if (!nickname || nickname === DEFAULT_NICKNAME) return
      api.saveProfile({ nickname }).then(() => {
        this.setData({ askNickname: false })
        if (!this.hidden) this.live.resync()  // my new name in the avatar row
      },
        err => this.setData({ notice: errorText(err) }))
    },

    /* 立即参团: consents straight from the tap, then a seat for the pay window, then the cashier. */
    join() {
      if (this.data.busy) return
      this.setData({ busy: true, notice: '' })
      const body = {}
      if (this.data.view.courses.length && this.data.picked) body.course_id = this.data.picked
      checkout.askConsents(checkout.templatesFor(this.templates, 'join'))
        .then(() => api.call('POST', `/api/groups/${this.code}/join`, body))
        .then(joined => {
          getApp().globalData.checkouts[this.code] = joined
          this.group = Object.assign({}, this.group, { my_seat: joined.group.my_seat })
          this.render()
          return this.payFor(joined)
        }, err => {
          this.setData({ busy: false, notice: errorText(err) })
          if (err.code === 'group_full' || err.code === 'group_closed') this.refreshMine()
        })
    },

    continuePay() {
      const pending = getApp().globalData.checkouts[this.code]
      if (pending && !this.data.busy) {
        this.setData({ busy: true, notice: '' })
        this.payFor(pending)
      }
    },

    payFor(joined) {
      return checkout.pay(joined).then(() => {
        delete getApp().globalData.checkouts[this.code]
        this.setData({ busy: false, notice: '支付成功，正在确认…' })
        this.refreshMine()
      }, err => {
        this.setData({ busy: false, notice: checkout.cancelled(err) ? '已取消支付，座位暂时为你保留' : '支付没有完成，请重试' })
        this.render()
      })
    },

    /* The share card: WeChat waits up to 3 s for `promise`; the title and path before it are the fallback. */
    onShareAppMessage() {
      const view = this.data.view
      const fallback = { title: view ? `¥${view.price} 拼《${view.courseTitle}》` : '一起拼课', path: '/pages/group/index?code=' + this.code }
      const promise = api.call('GET', `/api/groups/${this.code}/share`, undefined, { auth: 'optional' }).then(share => ({
        title: share.title,
        path: share.path.charAt(0) === '/' ? share.path : '/' + share.path,
        imageUrl: share.image_url,
      }), () => fallback)
      return Object.assign({}, fallback, { promise })
    },

    /* The poster (750×1334, with a mini-program code whose scene names this group and me as the sharer). */
    makePoster() {
      this.setData({ busy: true, notice: '' })
      wx.downloadFile({
        url: `${api.base()}/api/groups/${this.code}/poster.png`,
        header: api.authHeader(),
        success: res => {
          if (res.statusCode === 200) this.setData({ busy: false, poster: res.tempFilePath })
          else this.setData({ busy: false, notice: '海报生成失败，请稍后重试' })
        },
        fail: () => this.setData({ busy: false, notice: '海报下载失败，请检查网络' }),
      })
    },

    savePoster() {
      wx.saveImageToPhotosAlbum({
        filePath: this.data.poster,
        success: () => {
          this.setData({ poster: '' })
          wx.showToast({ title: '已保存到相册', icon: 'success' })
        },
        fail: err => this.setData({
          notice: /auth/.test(err.errMsg || '') ? '请在设置中允许保存到相册' : '保存失败，请重试',
        }),
      })
    },

    closePoster() {
      this.setData({ poster: '' })
    },

    goStudy() {
      wx.switchTab({ url: '/pages/courses/index' })
    },

    goCampaign() {
      const campaign = this.group && this.group.campaign
      if (campaign) wx.redirectTo({ url: '/pages/campaign/index?id=' + campaign.id })
    },
  },
})
