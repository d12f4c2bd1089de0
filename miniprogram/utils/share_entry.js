/* Which group a page was opened on, and who shared it: a shared card's path carries `code` and `from`;
 * a poster's mini-program code carries the scene '<code>.<sharer>' (posters/pictures.py:scene_for), which
 * WeChat hands over URL-encoded in `scene`. Anything malformed counts as nothing. */
const CODE = /^[A-Za-z0-9_-]{1,32}$/
const REF = /^[0-9a-z]{1,40}$/

function decoded(text) {
  try {
    return decodeURIComponent(text)
  } catch (e) {
    return ''
  }
}

/* query → {code, from, channel}: channel 'poster' for a scanned code, 'card' for a shared card (it has a
 * sharer), null for a page opened from inside the app. */
function entryOf(query) {
  query = query || {}
  let code = null
  let from = null
  let channel = null
  if (query.scene) {
    const scene = decoded(String(query.scene))
    const dot = scene.indexOf('.')
    code = dot < 0 ? scene : scene.slice(0, dot)
    from = dot < 0 ? null : scene.slice(dot + 1)
    channel = 'poster'
  } else if (query.code) {
    code = decoded(String(query.code))
    from = query.from ? decoded(String(query.from)) : null
    channel = from ? 'card' : null
  }
  if (!CODE.test(code || '')) return { code: null, from: null, channel: null }
  return { code, from: REF.test(from || '') ? from : null, channel }
}

module.exports = { entryOf }
