/* 我的拼团: every group I paid or hold a seat in, newest first, with where it stands and my order.
 * The API lists my orders (GET /api/me/orders); each group's state comes from GET /api/groups/<code>. */
const api = require('../../utils/api')
const { beijingTime, yuan, errorText, GROUP_STATUS, ORDER_STATUS } = require('../../utils/words')

const MAX_GROUPS = 20

function rowOf(order, group) {
  const needed = Math.max(group.size - group.paid_count, 0)
  const line = group.status === 'forming' ? `还差 ${needed} 人 · 截止 ${beijingTime(group.deadline_at)}`
    : group.closed_at ? `结束于 ${beijingTime(group.closed_at)}` : `开团于 ${beijingTime(group.opened_at)}`
  const refund = order.refund
  const mine = group.my_seat
  return {
    code: group.share_code, title: group.campaign.course.title, status: group.status,
    statusText: GROUP_STATUS[group.status] || group.status, line,
    progress: `${group.paid_count}/${group.size}`, roleText: mine && mine.role === 'leader' ? '我是团长' : '我是团员',
    orderText: `${ORDER_STATUS[order.status] || order.status} ¥${yuan(order.amount_fen)}`,
    refundText: !refund ? '' : refund.status === 'succeeded' ? `已退款 ¥${yuan(refund.amount_fen)}，原路退回`
      : `退款 ¥${yuan(refund.amount_fen)} 处理中，1–3 个工作日到账`,
  }
}

Component({
  data: { loading: true, error: '', groups: [], nickname: '', initial: '' },

  methods: {
    onShow() {
      this.load()
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },

    load() {
      return api.signIn().then(() => {
        this.showUser(api.cachedUser())
        return api.call('GET', '/api/me/orders')
      }).then(({ orders }) => {
        const latest = {}
        const codes = []
        orders.forEach(o => {
          if (o.group_share_code && !latest[o.group_share_code] && codes.length < MAX_GROUPS) {
            latest[o.group_share_code] = o
            codes.push(o.group_share_code)
          }
        })
        return Promise.all(codes.map(code => api.call('GET', `/api/groups/${code}`, undefined, { auth: 'optional' })
          .then(group => rowOf(latest[code], group))))
      }).then(groups => this.setData({ loading: false, error: '', groups }),
        err => this.setData({ loading: false, error: errorText(err) }))
    },

    showUser(user) {
      const nickname = (user && user.nickname) || '微信用户'
      this.setData({ nickname, initial: nickname.slice(0, 1) })
    },

    saveNickname(e) {
      const nickname = ((e.detail && e.detail.value) || '').trim()
      if (nickname) api.saveProfile({ nickname }).then(user => this.showUser(user), err => wx.showToast({ title: errorText(err), icon: 'none' }))
    },

    openGroup(e) {
      wx.navigateTo({ url: '/pages/group/index?code=' + e.currentTarget.dataset.code })
    },

    goHome() {
      wx.switchTab({ url: '/pages/index/index' })
    },
  },
})
