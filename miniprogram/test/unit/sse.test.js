/* The live stream's reader: UTF-8 and Server-Sent Events cut anywhere by wx.request's chunks. */
const test = require('node:test')
const assert = require('node:assert/strict')

const { Utf8Decoder, SseParser } = require('../../utils/sse')

// Frames as miniapp_api/live_hub.py writes them: id, event, one data line of JSON, a blank line.
const STREAM = 'retry: 2000\n\n' +
  'id: 7\nevent: snapshot\ndata: {"status":"forming","members":[{"nickname":"小明🙂","role":"leader"}]}\n\n' +
  'event: heartbeat\ndata: {"server_time":"2026-05-10T12:00:00.123456Z"}\n\n' +
  'id: 8\nevent: member_joined\ndata: {"member":{"nickname":"Zoë 王","role":"member"},"paid_count":2}\n\n'

function eventsOf(chunks) {
  const decoder = new Utf8Decoder()
  const events = []
  const parser = new SseParser(e => events.push(Object.assign({ lastEventId: parser.lastEventId }, e)))
  chunks.forEach(chunk => parser.feed(decoder.decode(chunk)))
  return { events, parser }
}

function cut(bytes, size) {
  const chunks = []
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size).buffer)
  return chunks
}

test('a stream read in one chunk gives every event with its type, id and data', () => {
  const { events, parser } = eventsOf([new TextEncoder().encode(STREAM).buffer])
  assert.deepEqual(events.map(e => [e.type, e.id]), [['snapshot', '7'], ['heartbeat', '7'], ['member_joined', '8']])
  assert.equal(JSON.parse(events[0].data).members[0].nickname, '小明🙂')
  assert.equal(JSON.parse(events[2].data).member.nickname, 'Zoë 王')
  assert.equal(parser.retry, 2000)
  assert.equal(parser.lastEventId, '8')
})

test('every way of cutting the stream into two chunks gives the same events', () => {
  const bytes = new TextEncoder().encode(STREAM)
  const whole = eventsOf([bytes.buffer]).events
  for (let at = 1; at < bytes.length; at++) {
    const { events } = eventsOf([bytes.slice(0, at).buffer, bytes.slice(at).buffer])
    assert.deepEqual(events, whole, `cut at byte ${at}`)
  }
})

test('a stream cut into one-byte and three-byte chunks gives the same events', () => {
  const bytes = new TextEncoder().encode(STREAM)
  const whole = eventsOf([bytes.buffer]).events
  assert.deepEqual(eventsOf(cut(bytes, 1)).events, whole)
  assert.deepEqual(eventsOf(cut(bytes, 3)).events, whole)
})

test('CRLF and CR line ends, a CRLF cut between chunks, comments and multi-line data follow the standard', () => {
  const { events } = eventsOf([
    new TextEncoder().encode(': keep-alive\r\nid: 3\r\nevent: a\r\ndata: one\r').buffer,
    new TextEncoder().encode('\ndata: two\r\n\r\nevent: b\rdata:three\r\r').buffer,
  ])
  assert.deepEqual(events.map(e => [e.type, e.id, e.data]), [['a', '3', 'one\ntwo'], ['b', '3', 'three']])
})

test('an event without data is not dispatched but its id is kept for Last-Event-ID', () => {
  const { events, parser } = eventsOf([new TextEncoder().encode('id: 41\nevent: x\n\n').buffer])
  assert.deepEqual(events, [])
  assert.equal(parser.lastEventId, '41')
})

test('the decoder finishes a character the previous chunk cut and replaces bytes that are not UTF-8', () => {
  const decoder = new Utf8Decoder()
  const bytes = new TextEncoder().encode('拼🙂')  // 3 + 4 bytes
  assert.equal(decoder.decode(bytes.slice(0, 2).buffer), '')
  assert.equal(decoder.decode(bytes.slice(2, 5).buffer), '拼')
  assert.equal(decoder.decode(bytes.slice(5).buffer), '🙂')
  assert.equal(new Utf8Decoder().decode(new Uint8Array([0x41, 0xff, 0x42, 0xc3, 0x28]).buffer), 'A\uFFFDB\uFFFD(')
  assert.equal(new Utf8Decoder().decode(new Uint8Array([0xed, 0xa0, 0x80]).buffer), '\uFFFD')  // a surrogate
})
