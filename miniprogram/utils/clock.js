/* Time against the server's clock: every answer and event carries `server_time`, and a countdown runs
 * against it rather than the phone's clock, which may be minutes off. */

/* '2026-05-10T12:00:00.123456Z' → ms since the epoch; NaN for anything else. Written out because some
 * phones' Date.parse refuses six-digit fractions. */
function parseIso(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$/.exec(text || '')
  if (!m) return NaN
  const ms = m[7] ? Number((m[7] + '00').slice(0, 3)) : 0
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms)
}

class ServerClock {
  constructor() {
    this.offset = 0  // the server's clock minus this phone's, ms
  }

  sync(serverTime) {
    const t = parseIso(serverTime)
    if (!isNaN(t)) this.offset = t - Date.now()
  }

  now() {
    return Date.now() + this.offset
  }
}

function pad(n) {
  return (n < 10 ? '0' : '') + n
}

/* The group page's ticking countdown, as the H5 page writes it: '剩余 1:02:03', '剩余 02:03';
 * '' without a deadline; null once it has passed. */
function countdownText(deadlineAt, nowMs) {
  const deadline = parseIso(deadlineAt)
  if (isNaN(deadline)) return ''
  const ms = deadline - nowMs
  if (ms <= 0) return null
  const s = Math.floor(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return '剩余 ' + (h ? h + ':' : '') + pad(m) + ':' + pad(s % 60)
}

module.exports = { ServerClock, parseIso, countdownText, pad }
