/* One simulated phone, in a worker thread of its own (its own `wx`, storage, app and module instances, as
 * two real phones have): WeChat's simulator (miniprogram-simulate: exparser, j-component and WeChat's wcc
 * compiler for the WXML) on jsdom renders the mini-program's real pages; App(), getApp(), the page stack
 * and its lifecycles (onLoad, onShow, onHide, onUnload) are played here as WeChat plays them; `wx` is the
 * bridge to the running Pinke (wx_bridge.js). The test drives it by messages (phone.js). */
const { parentPort, workerData } = require('worker_threads')
const fs = require('fs')
const path = require('path')
const { JSDOM } = require('jsdom')

const { makeBridge } = require('./wx_bridge')
const { writeSnapshot } = require('./snapshot')

const ROOT = path.resolve(__dirname, '../..')
const APP_JSON = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'))
const TABS = APP_JSON.tabBar.list.map(t => t.pagePath)
const WXML_LIST = APP_JSON.pages.map(p => p + '.wxml')

const errors = []
const stack = []       // pages, top last: {route, query, comp, instance}
const tabPages = {}    // tab pages stay loaded once opened, as in WeChat

const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', { pretendToBeVisual: true })
for (const name of ['window', 'document', 'navigator', 'Node', 'Element', 'HTMLElement', 'Event', 'CustomEvent',
  'MouseEvent', 'getComputedStyle', 'MutationObserver', 'requestAnimationFrame', 'cancelAnimationFrame']) {
  Object.defineProperty(global, name, { value: name === 'window' ? dom.window : dom.window[name], configurable: true, writable: true })
}
for (const level of ['error', 'warn']) {  // exparser reports a page's exceptions (a handler, setData) here
  const original = console[level]
  console[level] = (...args) => {
    if (level === 'error') errors.push(args.map(a => (a && a.stack) || String(a)).join(' '))
    original(...args)
  }
}
process.on('uncaughtException', err => errors.push('uncaught: ' + (err.stack || err)))
process.on('unhandledRejection', err => errors.push('unhandled rejection: ' + ((err && err.stack) || JSON.stringify(err))))

const simulate = require('miniprogram-simulate')
const settings = Object.assign({}, workerData, { navigate })  // the bridge reads these as it goes (phone.set)
const bridge = makeBridge(settings)
global.wx = bridge.wx  // after miniprogram-simulate, which puts its own stand-ins on `wx`

const config = require(path.join(ROOT, 'config.js'))
config.apiBase = workerData.api  // what editing config.js does for a real phone
let app = null
global.App = options => { app = options }
global.getApp = () => app
global.getCurrentPages = () => stack.map(p => p.instance)
global.Page = () => { throw new Error('build pages with Component(): WeChat\'s simulator renders components') }
require(path.join(ROOT, 'app.js'))

function guard(what, fn) {
  try {
    return fn()
  } catch (err) {
    errors.push(`${what}: ${err.stack || err}`)
    return undefined
  }
}

function lifecycle(page, name, arg) {
  const fn = page.instance[name]
  if (typeof fn === 'function') guard(`${page.route}.${name}`, () => fn.call(page.instance, arg))
}

function parseUrl(url, from) {
  let [route, qs] = String(url).split('?')
  if (route[0] === '/') route = route.slice(1)
  else if (from) route = path.posix.normalize(path.posix.join(path.posix.dirname(from), route))
  const query = {}
  for (const pair of (qs || '').split('&')) {
    if (!pair) continue
    const eq = pair.indexOf('=')
    query[eq < 0 ? pair : pair.slice(0, eq)] = eq < 0 ? '' : pair.slice(eq + 1)  // as WeChat: not decoded
  }
  return { route, query }
}

function load(route, query) {
  const id = simulate.load(path.join(ROOT, route), { rootPath: ROOT, compilerOptions: { wxmlList: WXML_LIST } })
  const comp = simulate.render(id)
  const parent = document.createElement('page-frame')
  document.body.appendChild(parent)
  comp.attach(parent)
  const page = { route, query, comp, instance: comp.instance, parent }
  page.instance.route = route
  page.instance.options = query
  lifecycle(page, 'onLoad', Object.assign({}, query))
  return page
}

function unload(page) {
  lifecycle(page, 'onUnload')
  page.comp.detach()
  page.parent.remove()
  if (tabPages[page.route] === page) delete tabPages[page.route]
}

function top() {
  return stack[stack.length - 1]
}

/* What wx.navigateTo & co. do to the page stack; returns WeChat's reason when it refuses. */
function navigate(how, options) {
  const current = top()
  if (how === 'navigateBack') {
    const delta = Math.max(1, options.delta || 1)
    if (stack.length <= 1) return 'cannot navigate back at first page.'
    setTimeout(() => {
      stack.splice(-delta).reverse().forEach(unload)
      lifecycle(top(), 'onShow')
    }, 0)
    return null
  }
  const { route, query } = parseUrl(options.url, current && current.route)
  if (!APP_JSON.pages.includes(route)) return `page "${route}" is not found`
  const isTab = TABS.includes(route)
  if ((how === 'navigateTo' || how === 'redirectTo') && isTab) return `can not ${how} a tabbar page`
  if (how === 'switchTab' && !isTab) return 'can not switchTab a non-tabbar page'
  setTimeout(() => show(how, route, query), 0)
  return null
}

function show(how, route, query) {
  const current = top()
  if (how === 'navigateTo') {
    if (current) lifecycle(current, 'onHide')
    stack.push(load(route, query))
  } else if (how === 'redirectTo') {
    stack.pop()
    if (current) unload(current)
    stack.push(load(route, query))
  } else {  // switchTab, reLaunch: the stack is left with the one page
    for (const page of stack.splice(0)) {
      if (how === 'switchTab' && TABS.includes(page.route)) lifecycle(page, 'onHide')
      else unload(page)
    }
    if (how === 'switchTab' && tabPages[route]) {
      stack.push(tabPages[route])
    } else {
      const page = load(route, query)
      if (TABS.includes(route)) tabPages[route] = page
      stack.push(page)
    }
  }
  lifecycle(top(), 'onShow')
}

function element(selector) {
  const page = top()
  if (!page) throw new Error('no page is open')
  const found = page.comp.querySelector(selector)
  if (!found) throw new Error(`nothing matches ${selector} on ${page.route}`)
  return found
}

const tick = () => new Promise(resolve => setTimeout(resolve, 0))

const commands = {
  launch({ route, query, scene }) {
    const options = { path: route, query: query || {}, scene: scene || 1001, referrerInfo: {} }
    guard('App.onLaunch', () => app.onLaunch && app.onLaunch(options))
    guard('App.onShow', () => app.onShow && app.onShow(options))
    show('reLaunch', route, query || {})
    return commands.page()
  },

  /* The app, already running, is opened again from another card or code (a hot start): App.onShow, then the
   * page, as WeChat does. */
  enter({ route, query, scene }) {
    const options = { path: route, query: query || {}, scene: scene || 1001, referrerInfo: {} }
    guard('App.onShow', () => app.onShow && app.onShow(options))
    show('reLaunch', route, query || {})
    return commands.page()
  },

  /* The person taps a tab in WeChat's tab bar (no part of the pages' WXML). */
  async tab({ route }) {
    const error = navigate('switchTab', { url: '/' + route })
    if (error) throw new Error(error)
    await tick()
  },

  page() {
    const page = top()
    return page ? { route: page.route, query: page.query, data: page.comp.data, stack: stack.map(p => p.route) } : null
  },

  async tap({ selector }) {
    element(selector).dispatchEvent('tap', { detail: { x: 0, y: 0 } })
    await tick()
  },

  async trigger({ selector, event, detail }) {
    element(selector).dispatchEvent(event, { detail: detail || {} })
    await tick()
  },

  /* Call a page method as WeChat would (onShareAppMessage, onPullDownRefresh); a `promise` in the answer
   * (onShareAppMessage's) is awaited, as WeChat waits for it. */
  async invoke({ method, args }) {
    const page = top()
    const result = page.instance[method].apply(page.instance, args || [])
    if (result && typeof result.then === 'function') return result
    if (result && result.promise) {
      const settled = await result.promise
      return Object.assign({}, result, { promise: undefined, resolved: settled })
    }
    return result
  },

  snapshot({ screen, dir }) {
    const page = top()
    return writeSnapshot({ root: ROOT, route: page.route, dom: page.comp.dom, data: page.comp.data, screen, dir })
  },

  log() {
    return bridge.log
  },

  album() {
    return bridge.album
  },

  openid() {
    return bridge.openid
  },

  /* Change how the person behaves from now on: payDecision, holdPayment, consent, chunkBytes. */
  set(changes) {
    Object.assign(settings, changes)
  },

  releasePayments() {
    return bridge.releasePayments()
  },

  storage({ key, value }) {
    if (value !== undefined) bridge.wx.setStorageSync(key, value)
    return bridge.wx.getStorageSync(key)
  },

  errors() {
    return errors
  },

  close() {
    for (const page of stack.splice(0)) unload(page)
    for (const page of Object.values(tabPages)) unload(page)
    bridge.discard()
    return errors
  },
}

parentPort.on('message', async ({ id, cmd, args }) => {
  try {
    const value = await commands[cmd](args || {})
    parentPort.postMessage({ id, ok: true, value: JSON.parse(JSON.stringify(value === undefined ? null : value)) })
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: err.stack || String(err) })
  }
})
parentPort.postMessage({ ready: true })
