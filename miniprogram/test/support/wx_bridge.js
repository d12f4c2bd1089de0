/* The `wx` of one simulated phone, bridged to a running Pinke and its WeChat sandbox instead of WeChat:
 *   wx.login                    → POST {sandbox}/sandbox/login/code {user}   (a fresh code, as wx.login gives)
 *   wx.request                  → real HTTP; enableChunked hands the body over as ArrayBuffer chunks
 *   wx.requestSubscribeMessage  → the templates the sandbox holds, then POST /sandbox/subscriptions (one
 *                                 one-time consent per accepted template, for this user's openid)
 *   wx.requestPayment           → POST {sandbox}/sandbox/pay/jsapi: WeChat's cashier, which checks the
 *                                 server's paySign against this mini-program's appId
 *   wx.downloadFile             → real HTTP into a temporary file; wx.saveImageToPhotosAlbum keeps images
 * Navigation is the phone's (phone_worker.js passes `navigate`). Anything else a page calls fails loudly:
 * a page must not lean on an API the phone does not have. Every call is in `log` for the tests. */
const crypto = require('crypto')
const fs = require('fs')
const http = require('http')
const https = require('https')
const os = require('os')
const path = require('path')

const SUBSCRIBE_MAX = 3  // WeChat shows at most three templates in one sheet

function makeBridge(phone) {
  const { appId, user, sandbox, navigate } = phone
  const storage = new Map()
  const log = []
  const album = []
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `pinke-phone-${user}-`))
  let heldPayments = []  // phone.holdPayment: the cashier sheet stays open until the test taps "pay"

  function record(api, args, result) {
    log.push({ api, args, result, at: Date.now() })
  }

  function finish(options, ok, result) {
    setTimeout(() => {
      const callback = ok ? options.success : options.fail
      if (typeof callback === 'function') callback(result)
      if (typeof options.complete === 'function') options.complete(result)
    }, 0)
  }

  /* Plain HTTP for the bridge's own calls to the sandbox. */
  function postJson(url, body) {
    return fetchRaw(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(r => ({ status: r.status, body: r.text ? JSON.parse(r.text) : null }))
  }

  function fetchRaw(url, options) {
    return new Promise((resolve, reject) => {
      const req = (url.startsWith('https:') ? https : http).request(url, { method: options.method || 'GET', headers: options.headers || {} }, res => {
        const chunks = []
        res.on('data', c => chunks.push(c))
        res.on('end', () => {
          const buffer = Buffer.concat(chunks)
          resolve({ status: res.statusCode, headers: res.headers, buffer, text: buffer.toString('utf8') })
        })
        res.on('error', reject)
      })
      req.on('error', reject)
      if (options.body) req.write(options.body)
      req.end()
    })
  }

  /* The sandbox's openid for this user in this app (docs/SANDBOX.md: "o" + urlsafe-base64(sha256(appid + person))):
   * WeChat's client knows who is holding the phone; the bridge plays that part. */
  const openid = ('o' + crypto.createHash('sha256').update(appId + user).digest('base64url')).slice(0, 28)

  function login(options = {}) {
    if (phone.badLoginCodes > 0) {  // a code WeChat will refuse (docs/SANDBOX.md: a code starting with `bad`)
      phone.badLoginCodes -= 1
      const result = { errMsg: 'login:ok', code: `bad-${user}.${crypto.randomBytes(4).toString('hex')}` }
      record('login', {}, result)
      return finish(options, true, result)
    }
    postJson(`${sandbox}/sandbox/login/code`, { user }).then(r => {
      const ok = r.status === 200
      const result = ok ? { errMsg: 'login:ok', code: r.body.code } : { errMsg: `login:fail ${r.status}` }
      record('login', {}, result)
      finish(options, ok, result)
    }, err => finish(options, false, { errMsg: 'login:fail ' + err.message }))
  }

  function request(options) {
    const listeners = { chunk: [], headers: [] }
    const method = (options.method || 'GET').toUpperCase()
    const header = Object.assign({ Referer: `https://servicewechat.com/${appId}/devtools/page-frame.html` }, options.header)
    const ctypeKey = Object.keys(header).find(k => k.toLowerCase() === 'content-type')
    if (!ctypeKey) header['Content-Type'] = 'application/json'
    const ctype = header[ctypeKey || 'Content-Type']
    let url = options.url
    let body = null
    if (method === 'GET' && options.data && typeof options.data === 'object') {  // WeChat turns GET data into a query string
      const qs = Object.keys(options.data).map(k => encodeURIComponent(k) + '=' + encodeURIComponent(options.data[k])).join('&')
      if (qs) url += (url.includes('?') ? '&' : '?') + qs
    } else if (options.data !== undefined && options.data !== null) {
      body = typeof options.data === 'string' ? options.data
        : options.data instanceof ArrayBuffer ? Buffer.from(options.data)
          : /json/i.test(ctype) ? JSON.stringify(options.data)
            : Object.keys(options.data).map(k => encodeURIComponent(k) + '=' + encodeURIComponent(options.data[k])).join('&')
    }
    let done = false
    const entry = { api: 'request', args: { method, url, enableChunked: !!options.enableChunked }, result: null, at: Date.now() }
    log.push(entry)
    const end = (ok, result) => {
      if (done) return
      done = true
      entry.result = ok ? { statusCode: result.statusCode } : result
      finish(options, ok, result)
    }
    const req = (url.startsWith('https:') ? https : http).request(url, { method, headers: header }, res => {
      const headers = res.headers
      listeners.headers.forEach(l => l({ header: headers }))
      const chunks = []
      res.on('data', chunk => {
        if (!options.enableChunked) return chunks.push(chunk)
        const piece = phone.chunkBytes || chunk.length  // WeChat cuts a stream anywhere; a test may cut it finer
        for (let i = 0; i < chunk.length; i += piece) {
          const part = chunk.subarray(i, i + piece)
          const data = part.buffer.slice(part.byteOffset, part.byteOffset + part.length)
          listeners.chunk.forEach(l => l({ data }))
        }
      })
      res.on('end', () => {
        const buffer = Buffer.concat(chunks)
        let data
        if (options.responseType === 'arraybuffer') data = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length)
        else {
          data = buffer.toString('utf8')
          if ((options.dataType || 'json') === 'json') {
            try { data = JSON.parse(data) } catch (e) { /* WeChat leaves what is not JSON as text */ }
          }
        }
        end(true, { errMsg: 'request:ok', statusCode: res.statusCode, header: headers, data, cookies: [] })
      })
      res.on('error', err => end(false, { errMsg: 'request:fail ' + err.message }))
    })
    req.setTimeout(options.timeout || 60000, () => { req.destroy(); end(false, { errMsg: 'request:fail timeout' }) })
    req.on('error', err => end(false, { errMsg: 'request:fail ' + err.message }))
    if (body !== null) req.write(body)
    req.end()
    return {
      abort() { req.destroy(); end(false, { errMsg: 'request:fail abort' }) },
      onChunkReceived(l) { listeners.chunk.push(l) },
      offChunkReceived(l) { listeners.chunk = listeners.chunk.filter(x => x !== l) },
      onHeadersReceived(l) { listeners.headers.push(l) },
      offHeadersReceived(l) { listeners.headers = listeners.headers.filter(x => x !== l) },
    }
  }

  /* The consent sheet: WeChat refuses ids the mini-program does not hold (20001) and more than three (20003). */
  function requestSubscribeMessage(options) {
    const ids = options.tmplIds
    const fail = (errCode, errMsg) => { record('requestSubscribeMessage', { tmplIds: ids }, { errCode, errMsg }); finish(options, false, { errCode, errMsg }) }
    if (!Array.isArray(ids) || !ids.length) return fail(10001, 'requestSubscribeMessage:fail parameter error: tmplIds is empty')
    if (ids.length > SUBSCRIBE_MAX) return fail(20003, 'requestSubscribeMessage:fail templates count out of max bounds')
    fetchRaw(`${sandbox}/sandbox/templates`, {}).then(r => {
      const held = JSON.parse(r.text).subscribe || {}
      if (!ids.every(id => id in held)) return fail(20001, 'requestSubscribeMessage:fail No template data return, verify the template id exist')
      const decision = phone.consent || 'accept'
      const result = { errMsg: 'requestSubscribeMessage:ok' }
      ids.forEach(id => { result[id] = decision })
      const grant = decision === 'accept' ? postJson(`${sandbox}/sandbox/subscriptions`, { openid, template_ids: ids }) : Promise.resolve()
      return grant.then(() => {
        record('requestSubscribeMessage', { tmplIds: ids }, result)
        finish(options, true, result)
      })
    }).catch(err => fail(10002, 'requestSubscribeMessage:fail ' + err.message))
  }

  /* The cashier: exactly the fields the server returned, plus this mini-program's appId. */
  function requestPayment(options) {
    const fields = { appId, timeStamp: options.timeStamp, nonceStr: options.nonceStr, package: options.package,
      signType: options.signType, paySign: options.paySign }
    const pay = () => postJson(`${sandbox}/sandbox/pay/jsapi`, Object.assign({ user }, fields)).then(r => {
      const ok = r.status === 200 && r.body && r.body.errMsg === 'requestPayment:ok'
      const result = ok ? { errMsg: 'requestPayment:ok' }
        : { errMsg: (r.body && r.body.errMsg) || `requestPayment:fail HTTP ${r.status}`, errCode: r.body && r.body.code }
      record('requestPayment', fields, Object.assign({ status: r.status, answer: r.body }, result))
      finish(options, ok, result)
    }, err => finish(options, false, { errMsg: 'requestPayment:fail ' + err.message }))
    if (phone.payDecision === 'cancel') {
      record('requestPayment', fields, { errMsg: 'requestPayment:fail cancel' })
      return finish(options, false, { errMsg: 'requestPayment:fail cancel' })
    }
    if (phone.holdPayment) heldPayments.push(pay)
    else pay()
  }

  function releasePayments() {
    const held = heldPayments
    heldPayments = []
    held.forEach(pay => pay())
    return held.length
  }

  function downloadFile(options) {
    fetchRaw(options.url, { headers: options.header || {} }).then(r => {
      const file = path.join(tmpDir, crypto.randomBytes(6).toString('hex') + path.extname(new URL(options.url).pathname))
      fs.writeFileSync(file, r.buffer)
      const result = { errMsg: 'downloadFile:ok', statusCode: r.status, tempFilePath: file }
      record('downloadFile', { url: options.url }, result)
      finish(options, true, result)
    }, err => finish(options, false, { errMsg: 'downloadFile:fail ' + err.message }))
  }

  function saveImageToPhotosAlbum(options) {
    let bytes = null
    try { bytes = fs.readFileSync(options.filePath) } catch (e) { /* no such file */ }
    const png = bytes && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    const jpeg = bytes && bytes[0] === 0xff && bytes[1] === 0xd8
    const ok = !!(png || jpeg)
    const result = { errMsg: ok ? 'saveImageToPhotosAlbum:ok' : 'saveImageToPhotosAlbum:fail invalid file type' }
    if (ok) album.push(options.filePath)
    record('saveImageToPhotosAlbum', { filePath: options.filePath }, result)
    finish(options, ok, result)
  }

  function noted(name, answer) {
    return (options = {}) => {
      const result = Object.assign({ errMsg: name + ':ok' }, answer)
      record(name, Object.assign({}, options, { success: undefined, fail: undefined, complete: undefined }), result)
      finish(options, true, result)
    }
  }

  function navigation(name) {
    return (options = {}) => {
      const error = navigate(name, options)
      const result = { errMsg: error ? `${name}:fail ${error}` : `${name}:ok` }
      record(name, { url: options.url, delta: options.delta }, result)
      finish(options, !error, result)
    }
  }

  const api = {
    login, request, requestSubscribeMessage, requestPayment, downloadFile, saveImageToPhotosAlbum,
    getStorageSync: key => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => { storage.set(key, JSON.parse(JSON.stringify(value))) },
    removeStorageSync: key => { storage.delete(key) },
    clearStorageSync: () => storage.clear(),
    getAccountInfoSync: () => ({ miniProgram: { appId, envVersion: 'develop', version: '' } }),
    navigateTo: navigation('navigateTo'),
    redirectTo: navigation('redirectTo'),
    switchTab: navigation('switchTab'),
    reLaunch: navigation('reLaunch'),
    navigateBack: navigation('navigateBack'),
    showToast: noted('showToast'),
    showModal: noted('showModal', { confirm: true, cancel: false }),
    showLoading: noted('showLoading'),
    hideLoading: noted('hideLoading'),
    showShareMenu: noted('showShareMenu'),
    setNavigationBarTitle: noted('setNavigationBarTitle'),
    setTabBarBadge: noted('setTabBarBadge'),
    removeTabBarBadge: noted('removeTabBarBadge'),
    stopPullDownRefresh: noted('stopPullDownRefresh'),
    setClipboardData: noted('setClipboardData'),
  }
  const wx = new Proxy(api, {
    get(target, name) {
      if (name in target) return target[name]
      if (typeof name === 'symbol' || name === 'then') return undefined
      throw new Error(`wx.${String(name)} is not bridged in the simulated phone: bridge it in test/support/wx_bridge.js`)
    },
  })
  /* The phone is put away: its downloads go with it. */
  function discard() {
    fs.rmSync(tmpDir, { recursive: true, force: true })
  }

  return { wx, log, album, storage, openid, releasePayments, discard }
}

module.exports = { makeBridge }
