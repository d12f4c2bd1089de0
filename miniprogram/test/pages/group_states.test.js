/* The group page's other states, each reached for real on the running Pinke: a leader who closed the
 * cashier pays from the group page (继续支付); a stranger finds the group through 凑团; a group short at
 * its deadline fails and shows the refund; the inbox leads back to the group. */
const test = require('node:test')
const assert = require('node:assert/strict')

const backend = require('../support/backend')
const { phonesFor } = require('../support/phone')

const env = backend.env()

async function openFromCampaign(phone, campaign) {
  await phone.launch('pages/campaign/index', { id: String(campaign.id) }, 1001)
  await phone.waitFor('the campaign page', p => !p.data.loading && p.data.campaign)
  await phone.tap('#open-group')
  return phone.waitFor('the group page', p => p.route === 'pages/group/index' && !p.data.loading && p.data.view)
}

test('a leader who closed the cashier pays from the group page, and a stranger finds the group through 凑团', async t => {
  const start = phonesFor(t, env)
  const tag = backend.tag()
  const campaign = await backend.newCampaign({ title: `继续支付 ${tag}`, group_size: 3 })
  const [leader, stranger] = await Promise.all([
    start({ user: `hesitant-${tag}`, payDecision: 'cancel' }), start({ user: `stranger-${tag}` })])

  await openFromCampaign(leader, campaign)
  const pending = await leader.waitFor('继续支付 offered', p => p.data.view.state === 'pending' && p.data.canContinuePay)
  assert.equal(pending.data.view.waiting, true)
  assert.equal(pending.data.notice, '')
  await leader.snapshot('group-pending')
  assert.deepEqual((await leader.log()).filter(e => e.api === 'requestPayment').map(e => e.result.errMsg), ['requestPayment:fail cancel'])

  await leader.set({ payDecision: 'pay' })
  await leader.tap('#continue-pay')
  const formed = await leader.waitFor('the group formed', p => p.data.view.state === 'forming' && p.data.view.joined)
  assert.equal(formed.data.canContinuePay, false)
  assert.equal(formed.data.view.seatsLine, '还差 2 人成团')
  const code = formed.query.code

  await stranger.launch('pages/campaign/index', { id: String(campaign.id) }, 1001)
  const listed = await stranger.waitFor('the group in 凑团', p => (p.data.openGroups || []).some(g => g.code === code))
  const row = listed.data.openGroups.find(g => g.code === code)
  assert.equal(row.seatsLeft, 2)
  assert.match(row.countdown, /^剩余 /)
  await stranger.snapshot('campaign-open-groups')
  await stranger.tap(`#open-${code}`)
  const seen = await stranger.waitFor('the group page', p => p.route === 'pages/group/index' && p.data.view)
  assert.equal(seen.data.view.canJoin, true)
  assert.equal(seen.query.code, code)
})

test('a message in the inbox opens its group and is marked read', async t => {
  const start = phonesFor(t, env)
  const tag = backend.tag()
  const campaign = await backend.newCampaign({ title: `消息 ${tag}`, group_size: 3 })
  const leader = await start({ user: `reader-${tag}` })
  const group = await openFromCampaign(leader, campaign)
  await leader.waitFor('the group formed', p => p.data.view.state === 'forming')
  await leader.tab('pages/inbox/index')
  const inbox = await leader.waitFor('开团成功 in the inbox', p => p.route === 'pages/inbox/index' && p.data.messages.some(m => m.unread))
  const message = inbox.data.messages.find(m => m.unread)
  assert.equal(message.page, `pages/group/index?code=${group.query.code}`)
  assert.equal(inbox.data.unread, 1)
  const badge = (await leader.log()).filter(e => e.api === 'setTabBarBadge').pop()
  assert.deepEqual(badge.args, { index: 3, text: '1' })
  await leader.tap(`#message-${message.id}`)
  const opened = await leader.waitFor('the group page', p => p.route === 'pages/group/index' && p.data.view)
  assert.equal(opened.query.code, group.query.code)
  const token = await leader.storage('pinke_token')
  const after = await backend.http('GET', env.api + '/api/me/messages', undefined, { Authorization: 'Bearer ' + token })
  assert.equal(after.json.unread_count, 0)
})

test('a group short at its deadline fails: the page shows the refund and 我的拼团 says 未成团', async t => {
  const start = phonesFor(t, env)
  const tag = backend.tag()
  const campaign = await backend.newCampaign({ title: `差一人 ${tag}`, group_size: 2, duration_s: 3 })
  const leader = await start({ user: `unlucky-${tag}` })
  await openFromCampaign(leader, campaign)
  const failed = await leader.waitFor('the group failed, over the live stream',
    p => p.data.view.state === 'failed' && /¥99/.test(p.data.refundLine), 20000)
  assert.match(failed.data.refundLine, /^(已为你申请退款 ¥99，原路退回，1–3 个工作日到账|已退款 ¥99，原路退回)$/)
  assert.equal(failed.data.countdown, '')
  await leader.snapshot('group-failed')
  await leader.tab('pages/mine/index')
  const mine = await leader.waitFor('我的拼团', p => p.route === 'pages/mine/index' && p.data.groups.length === 1)
  assert.equal(mine.data.groups[0].statusText, '未成团')
  assert.match(mine.data.groups[0].orderText, /^(退款中|已退款) ¥99$/)
})
