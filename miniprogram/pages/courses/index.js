/* 我的课程: the courses I can study (GET /api/me/courses): a group I paid in succeeded. */
const api = require('../../utils/api')
const { beijingTime, errorText } = require('../../utils/words')

Component({
  data: { loading: true, error: '', courses: [] },

  methods: {
    onShow() {
      this.load()
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },

    load() {
      return api.call('GET', '/api/me/courses').then(({ courses }) => this.setData({
        loading: false, error: '',
        courses: courses.map(c => ({
          id: c.id, title: c.title, cover: c.cover_url || '', initial: c.title.slice(0, 1), enrolled: beijingTime(c.enrolled_at),
        })),
      }), err => this.setData({ loading: false, error: errorText(err) }))
    },

    goHome() {
      wx.switchTab({ url: '/pages/index/index' })
    },
  },
})
