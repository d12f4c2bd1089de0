/* Signing in: silently at launch, again when the server refuses a token or WeChat a login code; and the
 * screens of someone who has nothing yet. Against the running Pinke. */
const test = require('node:test')
const assert = require('node:assert/strict')

const backend = require('../support/backend')
const { phonesFor } = require('../support/phone')

const env = backend.env()

function calls(log, api, pathPart) {
  return log.filter(e => e.api === api && (!pathPart || (e.args.url || '').includes(pathPart)))
}

test('a token the server refuses is dropped, the phone signs in again and the call goes through', async t => {
  const start = phonesFor(t, env)
  const phone = await start({ user: `renew-${backend.tag()}` })
  await phone.storage('pinke_token', 'a-token-the-server-never-issued')
  await phone.launch('pages/courses/index', {}, 1001)
  const page = await phone.waitFor('my courses loaded', p => !p.data.loading)
  assert.equal(page.data.error, '')
  assert.deepEqual(page.data.courses, [])
  const log = await phone.log()
  assert.deepEqual(calls(log, 'request', '/api/me/courses').map(e => e.result.statusCode), [401, 200])
  assert.equal(calls(log, 'login').length, 1)
  assert.notEqual(await phone.storage('pinke_token'), 'a-token-the-server-never-issued')
  await phone.snapshot('courses-empty')
})

test('a login code WeChat refuses is replaced by a fresh wx.login', async t => {
  const start = phonesFor(t, env)
  const phone = await start({ user: `spent-${backend.tag()}`, badLoginCodes: 1 })
  await phone.launch('pages/inbox/index', {}, 1001)
  const page = await phone.waitFor('the inbox loaded', p => !p.data.loading)
  assert.equal(page.data.error, '')
  assert.deepEqual(page.data.messages, [])
  const log = await phone.log()
  assert.deepEqual(calls(log, 'request', '/api/auth/wxlogin').map(e => e.result.statusCode), [401, 200])
  assert.match(calls(log, 'login')[0].result.code, /^bad-/)
  await phone.snapshot('inbox-empty')
})

test('someone new sees an empty 我的拼团 with their default name, and can name themselves', async t => {
  const start = phonesFor(t, env)
  const phone = await start({ user: `new-${backend.tag()}` })
  await phone.launch('pages/mine/index', {}, 1001)
  const page = await phone.waitFor('我的拼团 loaded', p => !p.data.loading)
  assert.deepEqual(page.data.groups, [])
  assert.equal(page.data.nickname, '微信用户')
  await phone.snapshot('mine-empty')
  await phone.trigger('#nickname', 'blur', { value: '  小红 ' })
  await phone.waitFor('the new name', p => p.data.nickname === '小红')
  const me = await backend.http('GET', env.api + '/api/me', undefined, { Authorization: 'Bearer ' + await phone.storage('pinke_token') })
  assert.equal(me.json.user.nickname, '小红')
})

test('a group code that names no group says so', async t => {
  const start = phonesFor(t, env)
  const phone = await start({ user: `lost-${backend.tag()}` })
  await phone.launch('pages/group/index', { code: 'NoSuchGroup0' }, 1007)
  const page = await phone.waitFor('the page gave up', p => !p.data.loading)
  assert.equal(page.data.missing, '没有找到这个拼团')
  await phone.enter('pages/group/index', { scene: encodeURIComponent('../../x') }, 1047)
  assert.equal((await phone.waitFor('a malformed scene refused', p => !p.data.loading)).data.missing, '没有找到这个拼团')
})
