/* The one file to edit when pointing the mini-program at a server (miniprogram/README.md).
 * appId: your mini-program's AppID (WeChat's console → 开发管理 → 开发设置); keep project.config.json's
 *        `appid` the same — WeChat DevTools reads that one, a test checks they agree.
 * apiBase: the Pinke server, no trailing slash. In production an https:// origin listed as a request
 *          legal domain (and as a download domain, for posters). */
module.exports = {
  appId: 'wx5a0dbox00000001',
  apiBase: 'http://127.0.0.1:5000',
}
