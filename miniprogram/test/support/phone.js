/* The test's side of a simulated phone (phone_worker.js runs it): launch the app on a page, read the page
 * on top, tap, trigger events, call page methods, and wait for the page to show something. */
const assert = require('node:assert/strict')
const path = require('path')
const { Worker } = require('worker_threads')

const { artifactsDir } = require('./snapshot')

class Phone {
  /* options: user (the sandbox's test user holding this phone), api, sandbox, appId; chunkBytes (cut the
   * live stream's chunks finer), holdPayment (the cashier waits for releasePayments()), consent ('accept',
   * 'reject'), payDecision ('cancel': the person closes the cashier), badLoginCodes (wx.login's next codes are
   * ones WeChat refuses). */
  static start(options) {
    const phone = new Phone(options)
    return phone.ready.then(() => phone)
  }

  constructor(options) {
    this.user = options.user
    this.pending = new Map()
    this.nextId = 1
    this.worker = new Worker(path.join(__dirname, 'phone_worker.js'), { workerData: options })
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', msg => (msg.ready ? resolve() : reject(new Error('phone did not start'))))
      this.worker.once('error', reject)
    })
    this.worker.on('message', msg => {
      const waiting = msg.id && this.pending.get(msg.id)
      if (!waiting) return
      this.pending.delete(msg.id)
      if (msg.ok) waiting.resolve(msg.value)
      else waiting.reject(new Error(`${this.user}'s phone: ${msg.error}`))
    })
    this.worker.on('error', err => {
      for (const waiting of this.pending.values()) waiting.reject(err)
      this.pending.clear()
    })
  }

  call(cmd, args) {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ id, cmd, args })
    })
  }

  launch(route, query, scene) { return this.call('launch', { route, query, scene }) }
  enter(route, query, scene) { return this.call('enter', { route, query, scene }) }
  page() { return this.call('page') }
  tab(route) { return this.call('tab', { route }) }
  tap(selector) { return this.call('tap', { selector }) }
  trigger(selector, event, detail) { return this.call('trigger', { selector, event, detail }) }
  invoke(method, ...args) { return this.call('invoke', { method, args }) }
  snapshot(screen) { return this.call('snapshot', { screen, dir: artifactsDir() }) }
  log() { return this.call('log') }
  album() { return this.call('album') }
  openid() { return this.call('openid') }
  releasePayments() { return this.call('releasePayments') }
  set(changes) { return this.call('set', changes) }
  storage(key, value) { return this.call('storage', { key, value }) }
  errors() { return this.call('errors') }

  /* Poll the page on top until `predicate(page)` holds; the page, or an error naming `what` and the last page. */
  async waitFor(what, predicate, timeoutMs = 15000) {
    const end = Date.now() + timeoutMs
    let page = null
    while (Date.now() < end) {
      page = await this.page()
      if (page && predicate(page)) return page
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    throw new Error(`${this.user}'s phone: timed out after ${timeoutMs} ms waiting for ${what}; the page was ` +
      JSON.stringify(page && { route: page.route, data: page.data }).slice(0, 3000))
  }

  /* Close every page, and answer the errors the pages met (exceptions, console.error). */
  async stop() {
    const errors = await this.call('close')
    await this.worker.terminate()
    return errors
  }
}

/* Phones for one test: `start(options)` (the running Pinke's addresses added), each stopped when the
 * test ends, and the test fails if a page met an error. */
function phonesFor(t, env) {
  const phones = []
  t.after(async () => {
    const met = {}
    for (const phone of phones) {
      const errors = await phone.stop().catch(err => [String(err)])
      if (errors.length) met[phone.user] = errors
    }
    assert.deepEqual(met, {}, 'the pages met errors')
  })
  return options => {
    const started = Phone.start(Object.assign({}, env, options))
    return started.then(phone => { phones.push(phone); return phone })
  }
}

module.exports = { Phone, phonesFor }
