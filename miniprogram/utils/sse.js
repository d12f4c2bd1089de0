/* Server-Sent Events read from wx.request({enableChunked: true}): WeChat hands over the response as
 * ArrayBuffer chunks cut anywhere — inside a UTF-8 character (a Chinese nickname) as much as inside an
 * event — and its JS runtime has no dependable TextDecoder, so both layers keep what a chunk left unfinished.
 * The parser follows the HTML standard's event-stream rules (fields, \r\n/\n/\r line ends, comments,
 * `id` kept across events, `retry`). */

/* UTF-8 bytes → text, a chunk at a time: a character cut by a chunk boundary waits for the next chunk;
 * a byte that cannot be UTF-8 becomes U+FFFD (as TextDecoder does). */
class Utf8Decoder {
  constructor() {
    this.pending = null  // the first bytes of a character the last chunk cut
  }

  decode(buffer) {
    let bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer)
    if (this.pending) {
      const joined = new Uint8Array(this.pending.length + bytes.length)
      joined.set(this.pending)
      joined.set(bytes, this.pending.length)
      bytes = joined
      this.pending = null
    }
    const points = []
    let i = 0
    while (i < bytes.length) {
      const lead = bytes[i]
      if (lead < 0x80) { points.push(lead); i += 1; continue }
      const need = lead >= 0xC2 && lead <= 0xDF ? 1 : lead >= 0xE0 && lead <= 0xEF ? 2 : lead >= 0xF0 && lead <= 0xF4 ? 3 : 0
      if (!need) { points.push(0xFFFD); i += 1; continue }
      let point = lead & (0x3F >> need)
      let k = 1
      for (; k <= need && i + k < bytes.length; k++) {
        const next = bytes[i + k]
        if ((next & 0xC0) !== 0x80) break
        point = (point << 6) | (next & 0x3F)
      }
      if (k <= need && i + k === bytes.length) {  // cut by the chunk's end: finish it with the next chunk
        this.pending = bytes.slice(i)
        break
      }
      const valid = k > need && !(need === 2 && (point < 0x800 || (point >= 0xD800 && point <= 0xDFFF)))
        && !(need === 3 && (point < 0x10000 || point > 0x10FFFF))
      points.push(valid ? point : 0xFFFD)
      i += valid ? need + 1 : Math.max(k, 1)
    }
    let text = ''
    for (let j = 0; j < points.length; j += 4096) text += String.fromCodePoint.apply(null, points.slice(j, j + 4096))
    return text
  }
}

/* Text → events `{id, type, data}` (data as sent: a string) for `onEvent`. `lastEventId` is what a
 * reconnect sends as Last-Event-ID; `retry` the reconnection delay the server asked for (ms), or null. */
class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent
    this.buffer = ''
    this.data = []
    this.type = ''
    this.lastEventId = ''
    this.retry = null
    this.skipLF = false
  }

  feed(text) {
    let i = 0
    if (this.skipLF && text[0] === '\n') i = 1  // the \n of a \r\n the last chunk cut
    this.skipLF = false
    let cr = -2
    let lf = -2
    while (i < text.length) {
      if (cr !== -1 && cr < i) cr = text.indexOf('\r', i)
      if (lf !== -1 && lf < i) lf = text.indexOf('\n', i)
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf)
      if (end < 0) break
      this.line(this.buffer + text.slice(i, end))
      this.buffer = ''
      i = end + 1
      if (text[end] === '\r') {
        if (i === text.length) this.skipLF = true
        else if (text[i] === '\n') i += 1
      }
    }
    this.buffer += text.slice(i)
  }

  line(line) {
    if (line === '') return this.dispatch()
    if (line[0] === ':') return  // a comment
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value[0] === ' ') value = value.slice(1)
    if (field === 'data') this.data.push(value)
    else if (field === 'event') this.type = value
    else if (field === 'id' && value.indexOf('\u0000') < 0) this.lastEventId = value
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value)
  }

  dispatch() {
    const data = this.data
    const type = this.type || 'message'
    this.data = []
    this.type = ''
    if (!data.length) return
    this.onEvent({ id: this.lastEventId, type, data: data.join('\n') })
  }
}

module.exports = { Utf8Decoder, SseParser }
