/* Reading a mini-program code the way a phone's camera does: decode the PNG (pngjs), find and read the
 * QR code in it (jsQR). */
const fs = require('fs')
const jsQR = require('jsqr')
const { PNG } = require('pngjs')

function scanPng(file) {
  const png = PNG.sync.read(fs.readFileSync(file))
  const found = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height)
  return found ? found.data : null
}

module.exports = { scanPng }
