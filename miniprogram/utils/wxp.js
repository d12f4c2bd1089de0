/* wx's callback APIs as promises: resolve with the success result, reject with the fail one ({errMsg}). */
function wxp(name, options) {
  return new Promise((resolve, reject) => {
    wx[name](Object.assign({}, options, { success: resolve, fail: reject }))
  })
}

module.exports = { wxp }
