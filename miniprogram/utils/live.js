/* A group's live events (GET /api/groups/<code>/events) kept open the way EventSource would keep it:
 * read with wx.request({enableChunked: true}); when the response ends, fails or goes silent for three
 * heartbeats, open it again after the server's `retry` delay with Last-Event-ID, and the server sends what
 * was missed (or a fresh snapshot). A 404 ends it: the group does not exist. */
const config = require('../config')
const { Utf8Decoder, SseParser } = require('./sse')

const SILENCE_MS = 45000  // three of the server's 15 s heartbeats
const MAX_RETRY_MS = 30000

class LiveStream {
  /* onEvent(type, data, id): data parsed from JSON. */
  constructor(path, onEvent) {
    this.url = config.apiBase + path
    this.onEvent = onEvent
    this.lastEventId = ''
    this.retryMs = 2000
    this.failures = 0
    this.task = null
    this.timer = null
    this.watchdog = null
    this.closed = true
    this.opened = 0  // connections made: the first, then each reconnection
  }

  open() {
    this.closed = false
    if (this.task) return
    clearTimeout(this.timer)
    const parser = new SseParser(event => this.receive(event))
    parser.lastEventId = this.lastEventId
    const decoder = new Utf8Decoder()
    const header = { Accept: 'text/event-stream' }
    if (this.lastEventId) header['Last-Event-ID'] = this.lastEventId
    let status = 0
    const task = wx.request({
      url: this.url, method: 'GET', header, enableChunked: true, responseType: 'arraybuffer', timeout: 600000,
      success: res => { status = res.statusCode },
      complete: () => {
        if (this.task !== task) return
        this.task = null
        clearTimeout(this.watchdog)
        if (status === 404) this.closed = true
        this.again()
      },
    })
    task.onChunkReceived(res => {
      this.awake(task)
      parser.feed(decoder.decode(res.data))
      this.lastEventId = parser.lastEventId
      if (parser.retry !== null) this.retryMs = parser.retry
    })
    this.task = task
    this.opened += 1
    this.awake(task)
  }

  receive(event) {
    let data
    try {
      data = JSON.parse(event.data)
    } catch (e) {
      return  // not one of ours
    }
    this.failures = 0
    this.onEvent(event.type, data, event.id)
  }

  awake(task) {
    clearTimeout(this.watchdog)
    this.watchdog = setTimeout(() => { if (this.task === task) task.abort() }, SILENCE_MS)
  }

  again() {
    if (this.closed) return
    this.failures += 1
    const wait = Math.min(this.retryMs * Math.pow(2, Math.max(this.failures - 2, 0)), MAX_RETRY_MS)
    this.timer = setTimeout(() => this.open(), wait)
  }

  /* Start over from a fresh snapshot (after a change the events do not carry, such as my own nickname): the
   * snapshot comes in order with the events, which a separate GET could not promise. */
  resync() {
    this.close()
    this.lastEventId = ''
    this.open()
  }

  close() {
    this.closed = true
    clearTimeout(this.timer)
    clearTimeout(this.watchdog)
    const task = this.task
    this.task = null
    if (task) task.abort()
  }
}

module.exports = { LiveStream }
