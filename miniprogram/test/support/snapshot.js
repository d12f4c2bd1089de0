/* A screen as the simulator rendered it, kept as a test artifact: test-artifacts/miniprogram/<screen>.html
 * holds the rendered WXML tree (exparser's DOM: <wx-view>, <wx-button>, classes prefixed `main--` as
 * miniprogram-simulate scopes them), styled by app.wxss and the page's WXSS (rpx at a 375-px-wide phone),
 * and the page's data. Open it in a browser to see the screen. */
const fs = require('fs')
const path = require('path')

const BASE_CSS = `
  body { margin: 0; background: #ddd; }
  .pk-phone { width: 375px; min-height: 667px; margin: 16px auto; overflow: hidden; position: relative; }
  wx-view, wx-button, wx-input, wx-image, wx-block { display: block; }
  wx-text { display: inline; }
  wx-image { width: 320px; height: 240px; background: #f0e6de center / cover no-repeat; }
  wx-button { text-align: center; padding: 10px 14px; border-radius: 5px; background: #f8f8f8; font-size: 18px; }
  wx-input { min-height: 1.4em; border: 1px solid #eee; }
  wx-input[placeholder]:empty::before { content: attr(placeholder); color: #aaa; }
`

function wxss(file) {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (e) {
    return ''
  }
}

/* WXSS as the simulator scoped it: `.x` → `.main--x`, `page` → the phone, rpx → px on a 375-px screen. */
function scoped(css) {
  return css
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(-?\d*\.?\d+)rpx/g, (_, n) => `${(Number(n) / 2).toFixed(1).replace(/\.0$/, '')}px`)
    .replace(/(^|[\s,}])page(?=[\s,{])/g, '$1.pk-phone')
    .replace(/\.([A-Za-z_][\w-]*)(?=[^{}]*\{)/g, (m, name) => (name === 'pk-phone' ? m : `.main--${name}`))
}

function escapeHtml(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;')
}

function writeSnapshot({ root, route, dom, data, screen, dir }) {
  fs.mkdirSync(dir, { recursive: true })
  const css = scoped(wxss(path.join(root, 'app.wxss')) + '\n' + wxss(path.join(root, route + '.wxss')))
  const html = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${escapeHtml(screen)} — ${escapeHtml(route)}</title>
<style>${BASE_CSS}${css}</style></head>
<body><div class="pk-phone" data-route="${escapeHtml(route)}">${dom.innerHTML}</div>
<script type="application/json" id="page-data">${escapeHtml(JSON.stringify(data, null, 2))}</script>
</body></html>
`
  const file = path.join(dir, screen + '.html')
  fs.writeFileSync(file, html)
  return file
}

/* Where screens are kept: PINKE_ARTIFACTS (the pytest module sets it), else the repository's test-artifacts/. */
function artifactsDir() {
  return process.env.PINKE_ARTIFACTS || path.resolve(__dirname, '../../../test-artifacts/miniprogram')
}

module.exports = { writeSnapshot, artifactsDir }
