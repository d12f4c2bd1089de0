/* The running Pinke the tests talk to (tests/e2e/test_miniprogram.py starts it and says where), and the
 * operator's side of it — creating a campaign — which is no part of the mini-program. */
const config = require('../../config')

function env() {
  const api = process.env.PINKE_API
  const sandbox = process.env.PINKE_SANDBOX
  if (!api || !sandbox) throw new Error('PINKE_API and PINKE_SANDBOX name the running Pinke and its WeChat sandbox')
  return { api, sandbox, appId: process.env.PINKE_APP_ID || config.appId }
}

async function http(method, url, body, headers) {
  const r = await fetch(url, {
    method, headers: Object.assign({ 'Content-Type': 'application/json' }, headers), body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await r.text()
  let json = null
  try { json = JSON.parse(text) } catch (e) { /* not JSON */ }
  return { status: r.status, json, text }
}

async function admin(method, apiPath, body) {
  const r = await http(method, env().api + '/admin/api' + apiPath, body, { Authorization: 'Bearer ' + process.env.PINKE_ADMIN_TOKEN })
  if (r.status >= 300) throw new Error(`${method} ${apiPath}: ${r.status} ${r.text}`)
  return r.json
}

/* A course and a campaign selling it (as tools/http_client.py's Api.new_campaign): 3 people, 1 hour, ¥99. */
async function newCampaign(terms = {}) {
  const { title = '测试课程', ...rest } = terms
  const course = await admin('POST', '/courses', { title, price_fen: 19900 })
  const body = Object.assign({ course_id: course.course.id, group_size: 3, duration_s: 3600, group_price_fen: 9900 }, rest)
  return (await admin('POST', '/campaigns', body)).campaign
}

/* What WeChat delivered to this openid (GET /sandbox/messages). */
async function deliveredTo(openid) {
  return (await http('GET', `${env().sandbox}/sandbox/messages?openid=${encodeURIComponent(openid)}`)).json.messages
}

function tag() {
  return Math.random().toString(36).slice(2, 8)
}

module.exports = { env, http, admin, newCampaign, deliveredTo, tag }
