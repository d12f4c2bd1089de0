/* The project is one WeChat DevTools can open: every page has its four files and is built with Component()
 * (the simulator renders components), the tab bar names pages that exist, and the app id is in one place. */
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')

const ROOT = path.resolve(__dirname, '../..')
const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'))

test('every page has its .js, .json, .wxml and .wxss and is built with Component()', () => {
  for (const page of app.pages) {
    for (const ext of ['.js', '.json', '.wxml', '.wxss']) {
      assert.ok(fs.existsSync(path.join(ROOT, page + ext)), `${page}${ext}`)
    }
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(ROOT, page + '.json'), 'utf8')).usingComponents, {})
    assert.match(fs.readFileSync(path.join(ROOT, page + '.js'), 'utf8'), /^Component\(\{/m)
  }
})

test('the tab bar names pages of the app, and shared cards open a page that exists', () => {
  for (const tab of app.tabBar.list) assert.ok(app.pages.includes(tab.pagePath), tab.pagePath)
  assert.ok(app.pages.includes('pages/group/index'), 'MINIAPP_GROUP_PAGE, the page shares and codes open')
  assert.ok(app.pages.includes('pages/courses/index'), 'templates_msg/catalogue.py sends people there')
})

test('config.js and project.config.json name the same app id', () => {
  const config = require(path.join(ROOT, 'config.js'))
  const project = JSON.parse(fs.readFileSync(path.join(ROOT, 'project.config.json'), 'utf8'))
  assert.equal(project.appid, config.appId)
  assert.match(config.apiBase, /^https?:\/\/[^/]+$/, 'an origin, no trailing slash')
  assert.ok(project.packOptions.ignore.some(i => i.value === 'test'), 'the tests are not uploaded with the app')
})
