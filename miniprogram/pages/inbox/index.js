/* 消息: the in-app inbox (GET /api/me/messages): every notification, whatever channel pushed it. Opening one
 * marks it read and goes where it points (a group, my courses). The unread count is the tab's badge. */
const api = require('../../utils/api')
const { beijingTime, errorText } = require('../../utils/words')

const TABS = ['pages/index/index', 'pages/mine/index', 'pages/courses/index', 'pages/inbox/index']
const INBOX_TAB = 3

function rowOf(m) {
  return { id: m.id, title: m.title, text: m.text, page: m.page || '', unread: !m.read_at, when: beijingTime(m.created_at) }
}

Component({
  data: { loading: true, error: '', messages: [], unread: 0 },

  methods: {
    onShow() {
      this.load()
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },

    load() {
      return api.call('GET', '/api/me/messages').then(body => {
        this.setData({ loading: false, error: '', messages: body.messages.map(rowOf) })
        this.badge(body.unread_count)
      }, err => this.setData({ loading: false, error: errorText(err) }))
    },

    badge(unread) {
      this.setData({ unread })
      if (unread) wx.setTabBarBadge({ index: INBOX_TAB, text: unread > 99 ? '99+' : String(unread) })
      else wx.removeTabBarBadge({ index: INBOX_TAB })
    },

    openMessage(e) {
      const id = e.currentTarget.dataset.id
      const message = this.data.messages.find(m => m.id === id)
      if (!message) return
      if (message.unread) {
        api.call('POST', `/api/me/messages/${id}/read`).then(body => {
          this.setData({ messages: this.data.messages.map(m => (m.id === id ? rowOf(body.message) : m)) })
          this.badge(body.unread_count)
        }, () => {})
      }
      const page = message.page.replace(/^\//, '')
      if (!page) return
      const path = page.split('?')[0]
      const tab = TABS.indexOf(path) >= 0
      wx[tab ? 'switchTab' : 'navigateTo']({
        url: '/' + (tab ? path : page),  // a tab page takes no query
        fail: () => wx.showToast({ title: '请在新版小程序中查看', icon: 'none' }),
      })
    },
  },
})
