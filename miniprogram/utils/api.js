/* The public API (docs/openapi.yaml) over wx.request: the bearer token kept in storage, the device id
 * (X-Pinke-Device, which the rate limits count by), and signing in by wx.login → /api/auth/wxlogin —
 * again, once, when the server refuses a token (expired, revoked, merged away). */
const config = require('../config')
const { wxp } = require('./wxp')

const TOKEN = 'pinke_token'
const USER = 'pinke_user'
const DEVICE = 'pinke_device'

let signingIn = null  // one sign-in at a time: concurrent calls wait for the same one
let referral = {}     // {from, share_code} of the share the app was opened on

class ApiError extends Error {
  constructor(status, error) {
    super((error && error.message) || `HTTP ${status}`)
    this.status = status
    this.code = (error && error.code) || (status ? 'http_error' : 'network')
    this.details = (error && error.details) || {}
  }

  static of(res) {
    const err = new ApiError(res.statusCode, res.data && res.data.error)
    const retry = Object.keys(res.header || {}).find(k => k.toLowerCase() === 'retry-after')
    if (retry) err.retryAfter = Number(res.header[retry])
    return err
  }
}

/* This phone's id: random, made once, kept in storage (16–64 of A-Za-z0-9_-). Not a secret. */
function deviceId() {
  let id = wx.getStorageSync(DEVICE)
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(id || '')) {
    id = 'mp-' + Date.now().toString(36)
    while (id.length < 32) id += Math.random().toString(36).slice(2)
    id = id.slice(0, 32)
    wx.setStorageSync(DEVICE, id)
  }
  return id
}

function token() {
  return wx.getStorageSync(TOKEN) || null
}

function send(method, path, data, bearer) {
  const header = { 'X-Pinke-Device': deviceId() }
  if (data !== undefined) header['Content-Type'] = 'application/json'
  if (bearer) header.Authorization = 'Bearer ' + bearer
  return new Promise((resolve, reject) => {
    wx.request({
      url: config.apiBase + path, method, data, header, dataType: 'json',
      success: resolve,
      fail: err => reject(new ApiError(0, { code: 'network', message: (err && err.errMsg) || 'request failed' })),
    })
  })
}

/* Remember the share the app was opened on: a first sign-in passes it along (`from`, `share_code`). */
function setReferral(entry) {
  referral = {}
  if (entry.from) referral.from = entry.from
  if (entry.share_code) referral.share_code = entry.share_code
}

function login(again) {
  return wxp('login', {})
    .then(res => send('POST', '/api/auth/wxlogin', Object.assign({ code: res.code }, referral)))
    .then(res => {
      if (res.statusCode === 200) {
        wx.setStorageSync(TOKEN, res.data.token)
        wx.setStorageSync(USER, res.data.user)
        return res.data.token
      }
      if (res.statusCode === 401 && !again) return login(true)  // a spent or stale code: wx.login gives a new one
      throw ApiError.of(res)
    })
}

/* The token, signing in first when there is none. */
function signIn() {
  if (token()) return Promise.resolve(token())
  if (!signingIn) {
    signingIn = login(false).then(
      t => { signingIn = null; return t },
      e => { signingIn = null; throw e })
  }
  return signingIn
}

/* One API call; resolves with the answer's JSON, rejects with an ApiError.
 * auth: 'required' (sign in first), 'optional' (send the token if there is one: public pages that show
 * more to a member) or 'none'. A refused token is dropped and the call made once more after a new sign-in. */
function call(method, path, data, options) {
  const auth = (options && options.auth) || 'required'
  const ready = auth === 'required' ? signIn()
    : auth === 'optional' && signingIn ? signingIn.catch(() => null) : Promise.resolve()

  function attempt(renewed) {
    const bearer = auth === 'none' ? null : token()
    return send(method, path, data, bearer).then(res => {
      if (res.statusCode === 401 && bearer && !renewed) {
        wx.removeStorageSync(TOKEN)
        return signIn().then(() => attempt(true))
      }
      if (res.statusCode >= 200 && res.statusCode < 300) return res.data
      throw ApiError.of(res)
    })
  }
  return ready.then(() => attempt(false))
}

/* The signed-in user as last seen (nickname, avatar), or null. */
function cachedUser() {
  return wx.getStorageSync(USER) || null
}

function saveProfile(changes) {
  return call('PATCH', '/api/me', changes).then(body => {
    wx.setStorageSync(USER, body.user)
    return body.user
  })
}

/* For requests the API client does not make itself (the poster's download): the same headers. */
function authHeader() {
  const header = { 'X-Pinke-Device': deviceId() }
  if (token()) header.Authorization = 'Bearer ' + token()
  return header
}

module.exports = { call, signIn, setReferral, cachedUser, saveProfile, authHeader, token, ApiError, base: () => config.apiBase }
