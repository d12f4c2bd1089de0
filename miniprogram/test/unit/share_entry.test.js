/* Which group a page opens on, and who shared it: card paths and poster scenes. */
const test = require('node:test')
const assert = require('node:assert/strict')

const { entryOf } = require('../../utils/share_entry')

test('a shared card gives the group and the sharer, counted as a card', () => {
  assert.deepEqual(entryOf({ code: 'AbCdEf-_1234', from: '1x2deadbeef' }), { code: 'AbCdEf-_1234', from: '1x2deadbeef', channel: 'card' })
})

test('a poster scene, URL-encoded as WeChat hands it over, gives the group and the sharer', () => {
  assert.deepEqual(entryOf({ scene: encodeURIComponent('AbCdEf-_1234.1x2deadbeef') }),
    { code: 'AbCdEf-_1234', from: '1x2deadbeef', channel: 'poster' })
  assert.deepEqual(entryOf({ scene: 'AbCdEf-_1234' }), { code: 'AbCdEf-_1234', from: null, channel: 'poster' })
})

test('a page opened inside the app has a group but no share to count', () => {
  assert.deepEqual(entryOf({ code: 'AbCdEf-_1234' }), { code: 'AbCdEf-_1234', from: null, channel: null })
})

test('malformed codes, sharers and encodings count as nothing', () => {
  assert.deepEqual(entryOf({ code: '../etc' }), { code: null, from: null, channel: null })
  assert.deepEqual(entryOf({ scene: '%E0%A4%A' }), { code: null, from: null, channel: null })
  assert.equal(entryOf({ code: 'AbC', from: 'Not<A>Ref' }).from, null)
  assert.deepEqual(entryOf({}), { code: null, from: null, channel: null })
  assert.deepEqual(entryOf(undefined), { code: null, from: null, channel: null })
})
