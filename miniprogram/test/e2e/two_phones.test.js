/* The mini-program end to end: its real pages in WeChat's simulator on three simulated phones, against a
 * running Pinke and its WeChat sandbox (tests/e2e/test_miniprogram.py starts them). Alice opens a group and
 * pays, shares it and saves its poster; Carol scans the poster; Bob opens the shared card, joins and pays.
 * While Bob is at the cashier Alice's page says "1 人正在支付" and Carol's that the group is full; then
 * Bob's avatar arrives on Alice's page over the live stream, the group succeeds on every screen, and Alice
 * and Bob find the course in 我的课程. */
const test = require('node:test')
const assert = require('node:assert/strict')

const backend = require('../support/backend')
const fs = require('fs')
const path = require('path')

const { phonesFor } = require('../support/phone')
const { artifactsDir } = require('../support/snapshot')
const { scanPng } = require('../support/qr')

function parsePath(path) {
  const [route, qs] = path.replace(/^\//, '').split('?')
  const query = {}
  for (const pair of (qs || '').split('&')) {
    const [k, v] = pair.split('=')
    if (k) query[k] = v
  }
  return { route, query }
}

function requestsTo(log, method, pathPart, after) {
  return log.filter(e => e.api === 'request' && e.args.method === method && e.args.url.includes(pathPart) && e.at >= after)
}

test('two phones fill a group in the simulator and both study the course', async t => {
  const env = backend.env()
  const tag = backend.tag()
  const campaign = await backend.newCampaign({ title: `小程序拼课 ${tag}`, group_size: 2, duration_s: 3600 })
  const templates = (await backend.http('GET', env.api + '/api/message-templates')).json.templates
  const start = phonesFor(t, env)
  // Alice's phone cuts the live stream into 5-byte chunks (inside Chinese characters and `data:` lines);
  // Bob stands at the cashier until the test lets him pay.
  const [alice, bob, carol] = await Promise.all([
    start({ user: `alice-${tag}`, chunkBytes: 5 }), start({ user: `bob-${tag}`, holdPayment: true }),
    start({ user: `carol-${tag}` })])

  await t.test('Alice opens a group from the campaign page and pays at the cashier', async () => {
    await alice.launch('pages/index/index', {}, 1001)
    await alice.waitFor('the campaign on the home page', p => p.data.campaigns.some(c => c.id === campaign.id))
    await alice.snapshot('index')
    await alice.tap(`#campaign-${campaign.id}`)
    const page = await alice.waitFor('the campaign page', p => p.route === 'pages/campaign/index' && !p.data.loading)
    assert.equal(page.data.campaign.title, `小程序拼课 ${tag}`)
    assert.equal(page.data.openLabel, '¥99 我来开团')
    await alice.snapshot('campaign')
    await alice.tap('#open-group')
    const group = await alice.waitFor('her group, formed once WeChat told Pinke she paid',
      p => p.route === 'pages/group/index' && p.data.view && p.data.view.state === 'forming' && p.data.view.joined)
    assert.deepEqual(group.data.view.members.map(m => m.leader), [true])
    assert.equal(group.data.view.seatsLine, '还差 1 人成团')
    const [h, m, sec] = /^剩余 (?:(\d+):)?(\d\d):(\d\d)$/.exec(group.data.countdown).slice(1).map(Number)
    assert.ok((h || 0) * 3600 + m * 60 + sec <= 3600, `an hour at most: ${group.data.countdown}`)

    const log = await alice.log()
    const asked = log.find(e => e.api === 'requestSubscribeMessage')
    assert.deepEqual(asked.args.tmplIds, [templates.member_joined, templates.group_succeeded, templates.group_failed])
    const paid = log.filter(e => e.api === 'requestPayment')
    assert.equal(paid.length, 1)
    assert.equal(paid[0].result.errMsg, 'requestPayment:ok')
    assert.equal(paid[0].args.appId, env.appId)
    assert.match(paid[0].args.package, /^prepay_id=/)
    const order = paid[0].result.answer.out_trade_no
    assert.ok(order, 'the sandbox cashier named the order it took the money for')
  })

  let share
  await t.test('Alice names herself and shares the group: the card carries her as the sharer', async () => {
    await alice.trigger('#nickname', 'blur', { value: 'Alice' })
    await alice.waitFor('her new name in her own avatar row', p => p.data.askNickname === false && p.data.view.members[0].nickname === 'Alice')
    const card = await alice.invoke('onShareAppMessage', { from: 'button' })
    share = card.resolved
    const page = await alice.page()
    assert.match(share.path, /^\/pages\/group\/index\?code=[A-Za-z0-9_-]+&from=[0-9a-z]+$/)
    assert.equal(parsePath(share.path).query.code, page.query.code)
    assert.equal(share.title, `还差1人 ¥99 拼《小程序拼课 ${tag}》`)
    assert.match(share.imageUrl, /\/card\.png$/)
  })

  let scene
  await t.test('Alice saves the poster; its mini-program code names the group and her', async () => {
    await alice.tap('#poster')
    const page = await alice.waitFor('the poster downloaded', p => !!p.data.poster)
    await alice.snapshot('poster')
    await alice.tap('#save-poster')
    await alice.waitFor('the poster sheet closed', p => !p.data.poster)
    const album = await alice.album()
    assert.equal(album.length, 1)
    fs.copyFileSync(album[0], path.join(artifactsDir(), 'poster.png'))
    scene = scanPng(album[0])
    const { query } = parsePath(share.path)
    assert.equal(scene, `${query.code}.${query.from}`)
    assert.equal(page.data.view.state, 'forming')
  })

  await t.test('Carol scans the poster: the scene opens the group', async () => {
    await carol.launch('pages/group/index', { scene: encodeURIComponent(scene) }, 1047)
    const page = await carol.waitFor('the group page', p => p.data.view && p.data.view.members.length === 1)
    assert.equal(page.data.view.members[0].nickname, 'Alice')
    assert.equal(page.data.view.canJoin, true)
    const clicks = requestsTo(await carol.log(), 'POST', '/clicks', 0)
    assert.equal(clicks.length, 1, 'the scan is counted as a click on the poster')
  })

  let bobTapped
  await t.test('Bob opens the shared card, joins and stands at the cashier: Alice sees "1 人正在支付"', async () => {
    const { route, query } = parsePath(share.path)
    await bob.launch(route, query, 1007)
    const page = await bob.waitFor('the group with Alice as its leader', p => p.data.view && p.data.view.members.length === 1)
    assert.equal(page.data.view.members[0].nickname, 'Alice')
    await bob.snapshot('group-shared')
    await bob.trigger('#nickname', 'blur', { value: 'Bob' })
    await bob.waitFor('his nickname saved', p => p.data.askNickname === false)
    bobTapped = Date.now()
    await bob.tap('#join')
    await bob.waitFor('his seat held while he pays', p => p.data.view.waiting)
    const paying = await alice.waitFor('"1 人正在支付" on Alice\'s page', p => p.data.view.payingText === '1 人正在支付')
    assert.equal(paying.data.view.seatsLine, '还差 1 人成团')
    await alice.snapshot('group-paying')
    const full = await carol.waitFor('"full" on Carol\'s page: every seat is paid or being paid for', p => p.data.view.state === 'full')
    assert.equal(full.data.view.canJoin, false)
    await carol.snapshot('group-full')
    const asked = (await bob.log()).find(e => e.api === 'requestSubscribeMessage')
    assert.deepEqual(asked.args.tmplIds, [templates.group_succeeded, templates.group_failed, templates.deadline_nudge])
  })

  await t.test('Bob pays: his avatar arrives on Alice\'s page live and the group succeeds everywhere', async () => {
    assert.equal(await bob.releasePayments(), 1)
    const arrived = await alice.waitFor('Bob\'s avatar on Alice\'s page', p => p.data.view.members.some(m => m.nickname === 'Bob'))
    assert.deepEqual(arrived.data.view.members.map(m => m.nickname), ['Alice', 'Bob'])
    const done = await alice.waitFor('the group succeeded on Alice\'s page', p => p.data.view.state === 'succeeded')
    assert.equal(done.data.view.progressText, '2/2')
    await alice.snapshot('group-succeeded')
    // It came over the stream: Alice's page asked for the group no more after Bob tapped 参团.
    const alog = await alice.log()
    assert.deepEqual(requestsTo(alog, 'GET', `/api/groups/${arrived.query.code}`, bobTapped)
      .filter(e => !e.args.url.endsWith('/events')), [])
    assert.ok(alog.some(e => e.api === 'request' && e.args.enableChunked && e.args.url.endsWith('/events')))
    await bob.waitFor('the group succeeded on Bob\'s page, his seat paid', p => p.data.view.state === 'succeeded' && p.data.view.paidSeat)
    const paid = (await bob.log()).filter(e => e.api === 'requestPayment')
    assert.deepEqual(paid.map(e => e.result.errMsg), ['requestPayment:ok'])
    const carols = await carol.waitFor('the group succeeded on Carol\'s page', p => p.data.view.state === 'succeeded')
    assert.equal(carols.data.view.paidSeat, false)
  })

  await t.test('Alice and Bob find the course in 我的课程', async () => {
    for (const phone of [alice, bob]) {
      await phone.tap('#study')
      const page = await phone.waitFor('the course', p => p.route === 'pages/courses/index' && p.data.courses.length === 1)
      assert.equal(page.data.courses[0].title, `小程序拼课 ${tag}`)
    }
    await alice.snapshot('courses')
  })

  await t.test('我的拼团 and the inbox show the group that succeeded', async () => {
    await alice.tab('pages/mine/index')
    const mine = await alice.waitFor('我的拼团', p => p.route === 'pages/mine/index' && p.data.groups.length === 1)
    assert.equal(mine.data.groups[0].statusText, '已成团')
    assert.equal(mine.data.groups[0].orderText, '已开通 ¥99')
    assert.equal(mine.data.nickname, 'Alice')
    await alice.snapshot('mine')
    await alice.tab('pages/inbox/index')
    const inbox = await alice.waitFor('the success message in the inbox',
      p => p.route === 'pages/inbox/index' && p.data.messages.some(m => m.title === '拼团成功' && m.text.includes(`小程序拼课 ${tag}`)))
    assert.deepEqual(inbox.data.messages.map(m => m.title), ['拼团成功', '开团成功'])  // newest first
    assert.equal(inbox.data.unread, inbox.data.messages.length)
    await alice.snapshot('inbox')
  })

  await t.test('WeChat pushed the subscribe messages the consents paid for', async () => {
    const openid = await bob.openid()
    const end = Date.now() + 15000
    let pushed = []
    while (Date.now() < end) {
      pushed = (await backend.deliveredTo(openid)).filter(m => m.kind === 'subscribe')
      if (pushed.some(m => m.template === templates.group_succeeded)) break
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    assert.ok(pushed.some(m => m.template === templates.group_succeeded),
      `Bob's subscribe messages: ${JSON.stringify(pushed.map(m => m.template))}`)
  })
})
