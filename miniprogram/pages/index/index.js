/* 拼课: the campaigns on sale now (GET /api/campaigns). */
const api = require('../../utils/api')
const { yuan, timeLeft, errorText } = require('../../utils/words')

function card(c) {
  return {
    id: c.id, title: c.course.title, cover: c.course.cover_url || '', initial: c.course.title.slice(0, 1),
    size: c.group_size, duration: timeLeft(c.duration_s), price: yuan(c.group_price_fen),
    listPrice: c.course.price_fen > c.group_price_fen ? yuan(c.course.price_fen) : '',
  }
}

Component({
  data: { loading: true, error: '', campaigns: [] },

  methods: {
    onLoad() {
      this.load()
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },

    load() {
      this.setData({ error: '' })
      return api.call('GET', '/api/campaigns', undefined, { auth: 'none' }).then(
        body => this.setData({ loading: false, campaigns: body.campaigns.map(card) }),
        err => this.setData({ loading: false, error: errorText(err) }))
    },

    openCampaign(e) {
      wx.navigateTo({ url: '/pages/campaign/index?id=' + e.currentTarget.dataset.id })
    },

    onShareAppMessage() {
      return { title: '一起拼课，更便宜', path: '/pages/index/index' }
    },
  },
})
