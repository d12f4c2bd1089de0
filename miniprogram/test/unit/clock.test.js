/* Countdowns run against the server's clock, never the phone's. */
const test = require('node:test')
const assert = require('node:assert/strict')

const { ServerClock, parseIso, countdownText } = require('../../utils/clock')

test('API times with six-digit fractions, three, or none parse to the millisecond', () => {
  assert.equal(parseIso('2026-05-10T12:00:00.123456Z'), Date.UTC(2026, 4, 10, 12, 0, 0, 123))
  assert.equal(parseIso('2026-05-10T12:00:00.5Z'), Date.UTC(2026, 4, 10, 12, 0, 0, 500))
  assert.equal(parseIso('2026-05-10T12:00:00Z'), Date.UTC(2026, 4, 10, 12, 0, 0))
  assert.ok(Number.isNaN(parseIso('2026-05-10 12:00')))
  assert.ok(Number.isNaN(parseIso(null)))
})

test('the clock follows the server time it was last given, whatever the phone says', () => {
  const clock = new ServerClock()
  const server = Date.now() + 7 * 60 * 1000  // the phone is seven minutes slow
  clock.sync(new Date(server).toISOString())
  assert.ok(Math.abs(clock.now() - server) < 1000)
  clock.sync('not a time')
  assert.ok(Math.abs(clock.now() - server) < 1000, 'a bad server_time leaves the clock as it was')
})

test('the countdown writes hours only when there are any, and says when the deadline has passed', () => {
  const deadline = '2026-05-10T12:00:00Z'
  const at = s => Date.UTC(2026, 4, 10, 12, 0, 0) - s * 1000
  assert.equal(countdownText(deadline, at(3723)), '剩余 1:02:03')
  assert.equal(countdownText(deadline, at(59.5)), '剩余 00:59')
  assert.equal(countdownText(deadline, at(26 * 3600)), '剩余 26:00:00')
  assert.equal(countdownText(deadline, at(0)), null)
  assert.equal(countdownText(null, at(10)), '')
})
