/* Pinke H5: the live group page and the campaign page. Hand-written, no build step.
 * Reads its settings from <script id="pinke-config" type="application/json">. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('pinke-config').textContent);
  var offset = 0;  // server clock minus this device's clock, in ms
  var $ = function (id) { return document.getElementById(id); };

  function syncClock(serverTime) { if (serverTime) offset = Date.parse(serverTime) - Date.now(); }
  function now() { return Date.now() + offset; }
  function yuan(fen) { return String(fen / 100); }  // 9900 → 99, 9950 → 99.5: as groupbuy/wording.py writes it
  function text(el, value) { if (el) el.textContent = value; }
  function show(el, on) { if (el) el.hidden = !on; }

  function token() { return cfg.token || localStorage.getItem('pinke_token'); }

  /* This browser's device id (X-Pinke-Device, 16-64 of [A-Za-z0-9_-]): random, made once, kept in
   * localStorage. Rate limits and risk rules count per device; without storage, none is sent. */
  function deviceId() {
    try {
      var id = localStorage.getItem('pinke_device');
      if (!/^[A-Za-z0-9_-]{16,64}$/.test(id || '')) {
        var bytes = new Uint8Array(16);
        crypto.getRandomValues(bytes);
        id = 'h5-' + Array.prototype.map.call(bytes, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
        localStorage.setItem('pinke_device', id);
      }
      return id;
    } catch (e) { return null; }
  }

  function api(method, path, body) {
    var headers = { 'Content-Type': 'application/json' };
    if (token()) headers.Authorization = 'Bearer ' + token();
    var device = deviceId();
    if (device) headers['X-Pinke-Device'] = device;
    return fetch(cfg.apiBase + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().then(function (data) {
          if (r.status === 429) {  // a rate limit: say when to try again (Retry-After, seconds)
            throw { code: 'rate_limited', message: '操作太频繁，请' + (r.headers.get('Retry-After') || '几') + '秒后再试' };
          }
          if (!r.ok) throw data.error || data;
          return data;
        });
      });
  }

  /* Signing in: the H5 session gives a token (inside WeChat); the sandbox lets anyone pick a name.
   * A login code works once, so each sign-in makes a fresh one: the sandbox reads 'h5-<name>.<nonce>'
   * as test user 'h5-<name>', the same person every time. */
  function ensureToken() {
    if (token()) return Promise.resolve(token());
    if (!cfg.sandbox) return Promise.reject({ code: 'unauthorized', message: '请在微信中打开，或扫码进入小程序参团' });
    var name = ($('login-name') && $('login-name').value.trim()) || '';
    if (!name) { show($('login'), true); $('login-name').focus(); return Promise.reject({ code: 'login_needed' }); }
    var nonce = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    return api('POST', '/api/auth/wxlogin', { code: 'h5-' + name + '.' + nonce }).then(function (data) {
      localStorage.setItem('pinke_token', data.token);
      return api('PATCH', '/api/me', { nickname: name });
    }).then(function () { show($('login'), false); return token(); });
  }

  /* WeChat's browser brings WeixinJSBridge itself, often only after the page's scripts started: it says so with
   * WeixinJSBridgeReady on document. */
  function weixinBridge() {
    if (window.WeixinJSBridge) return Promise.resolve(window.WeixinJSBridge);
    return new Promise(function (resolve) {
      document.addEventListener('WeixinJSBridgeReady', function () { resolve(window.WeixinJSBridge); }, { once: true });
    });
  }

  /* getBrandWCPayRequest with the fields the server signed (appId: the official account's, paySign: wechatpy's). */
  function payInWeChat(params) {
    return weixinBridge().then(function (bridge) {
      return new Promise(function (resolve, reject) {
        bridge.invoke('getBrandWCPayRequest', params, function (res) {
          var said = (res && res.err_msg) || '';
          if (said === 'get_brand_wcpay_request:ok') return resolve(res);
          reject({ code: said.split(':')[1] || 'fail',
                   message: /:cancel$/.test(said) ? '已取消支付' : '支付没有成功，请重试' });
        });
      });
    });
  }

  /* Paying: WeChat's JSAPI inside WeChat; in the sandbox, a stand-in sheet that tells the sandbox "paid". */
  function pay(checkout) {
    var params = checkout.pay_params;
    if (!params) return Promise.resolve();  // a free leader (团长免单): nothing to pay, the group is open already
    if (cfg.payVia || window.WeixinJSBridge) return payInWeChat(params);
    if (!cfg.sandbox) return Promise.reject({ message: '请在微信中完成支付' });
    text($('pay-amount'), '¥' + yuan(checkout.order.amount_fen));
    show($('paysheet'), true);
    return new Promise(function (resolve, reject) {
      $('pay-confirm').onclick = function () {
        show($('paysheet'), false);
        fetch(cfg.sandbox + '/sandbox/pay/confirm', {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ prepay_id: params.package.replace('prepay_id=', '') })
        }).then(function (r) { return r.ok ? resolve() : r.json().then(reject); }, reject);
      };
      $('pay-cancel').onclick = function () { show($('paysheet'), false); reject({ message: '已取消支付' }); };
    });
  }

  /* a cross-course campaign (跨课程拼团): the course the buyer picked in #course-pick, else the campaign's own */
  function picked(body) {
    body = body || {};
    var pick = $('course-pick');
    if (pick && pick.value) body.course_id = Number(pick.value);
    return body;
  }

  function flash(message) { text($('notice'), message || ''); show($('notice'), !!message); }

  /* ---- the group page ------------------------------------------------------------------------ */
  function GroupPage(group) {
    this.group = group;
    this.members = group.members.slice();
    this.mine = group.my_seat || null;
  }

  GroupPage.prototype.render = function () {
    var g = this.group, left = Math.max(g.size - this.members.length, 0), tier = g.tier;
    var needed = tier ? Math.max(tier.tiers[0].size - this.members.length, 0) : left;
    text($('seats-left'), g.status !== 'forming' ? '' : needed ? '还差 ' + needed + ' 人成团'
      : tier && tier.next ? '已成团！再 ' + tier.next.more + ' 人每人降到 ¥' + yuan(tier.next.price_fen)
      : left ? '' : '名额已满，等待付款');
    this.renderTier();
    $('progress-bar').style.width = Math.round(100 * this.members.length / g.size) + '%';
    text($('progress-text'), this.members.length + '/' + g.size);
    text($('paying'), g.reserved_count ? g.reserved_count + ' 人正在支付' : '');
    var row = $('members'), titles = {};
    ((g.campaign && g.campaign.courses) || []).forEach(function (c) { titles[c.id] = c.title; });
    row.innerHTML = '';
    this.members.forEach(function (m) {
      var cell = document.createElement('div');
      cell.className = 'member';
      var face = document.createElement(m.avatar_url ? 'img' : 'span');
      if (m.avatar_url) face.src = m.avatar_url; else { face.className = 'face'; face.textContent = (m.nickname || '?').slice(0, 1); }
      cell.appendChild(face);
      cell.appendChild(document.createTextNode(m.nickname));
      if (m.role === 'leader') { var r = document.createElement('span'); r.className = 'role'; r.textContent = '团长'; cell.appendChild(r); }
      var course = m.course_id && titles[m.course_id];  // a cross-course group: what this member picked
      if (course) { var c = document.createElement('span'); c.className = 'pick'; c.textContent = course; cell.appendChild(c); }
      row.appendChild(cell);
    });
    for (var i = 0; i < left && g.status === 'forming'; i++) {
      var empty = document.createElement('div');
      empty.className = 'member';
      empty.innerHTML = '<span class="seat"></span>待加入';
      row.appendChild(empty);
    }
    this.renderState();
    this.tick();
  };

  /* a tiered group (阶梯团): the tiers reached light up; the line says how many more lower the price */
  GroupPage.prototype.renderTier = function () {
    var tier = this.group.tier;
    if (!tier || !$('tiers')) return;
    Array.prototype.forEach.call($('tiers').children, function (cell) {
      cell.classList.toggle('reached', !!tier.reached && Number(cell.dataset.size) <= tier.reached.size);
    });
    text($('tier-line'), (tier.next && tier.reached ? '再 ' + tier.next.more + ' 人，每人降到 ¥' + yuan(tier.next.price_fen)
      : tier.next ? tier.tiers[0].size + ' 人成团，人越多越便宜' : '已达最低价 ¥' + yuan(tier.price_now_fen))
      + ' · 结束时按最终人数退还差价');
  };

  GroupPage.prototype.renderState = function () {
    var g = this.group, state = g.status;
    if (state === 'forming' && this.members.length >= g.size) state = 'full';
    if (state === 'forming' && g.reserved_count && this.members.length + g.reserved_count >= g.size &&
        !(this.mine && this.mine.status !== 'released')) state = 'full';
    ['forming', 'succeeded', 'failed', 'full', 'cancelled', 'pending', 'reviewing'].forEach(function (s) {
      show($('state-' + s), s === state);
    });
    document.body.dataset.state = state;
    if (state === 'succeeded' || state === 'failed' || state === 'cancelled') flash('');
    var paid = this.mine && this.mine.status === 'paid';
    show($('join-button'), state === 'forming' && !this.mine);
    show($('joined'), state === 'forming' && paid);
    show($('waiting'), state === 'forming' && this.mine && this.mine.status === 'reserved');
    if (state === 'failed') {
      var amount = this.myAmount || g.campaign.group_price_fen;
      text($('refund-amount'), '¥' + yuan(amount));
      show($('refund-line'), paid || !!this.myAmount);
    }
  };

  GroupPage.prototype.tick = function () {
    var g = this.group, el = $('countdown');
    if (g.status !== 'forming' || !g.deadline_at) { text(el, ''); return; }
    var ms = Date.parse(g.deadline_at) - now();
    if (ms <= 0) {
      text(el, '已截止，正在结算…');
      if (!this.settleCheck) this.settleCheck = setTimeout(this.refresh.bind(this), 5000);
      return;
    }
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    text(el, '剩余 ' + (h ? h + ':' : '') + pad(m) + ':' + pad(sec));
  };

  GroupPage.prototype.apply = function (type, e) {
    syncClock(e.server_time);
    var g = this.group;
    ['status', 'size', 'reserved_count', 'deadline_at', 'tier'].forEach(function (k) { if (k in e) g[k] = e[k]; });
    if (type === 'snapshot') { this.group = e; this.members = e.members.slice(); this.group.my_seat = this.mine; }
    if (type === 'member_joined' && e.member) this.members.push(e.member);
    if (type === 'group_formed' && e.member && !this.members.length) this.members.push(e.member);
    if (type === 'member_joined' && this.mine && this.mine.status === 'reserved' && this.joining) {
      this.refreshMine();
    }
    this.render();
  };

  GroupPage.prototype.refresh = function () {
    var self = this;
    api('GET', '/api/groups/' + cfg.shareCode).then(function (g) {
      self.settleCheck = null;
      self.mine = g.my_seat || null;
      self.apply('snapshot', g);
    });
  };

  GroupPage.prototype.refreshMine = function () {
    var self = this;
    api('GET', '/api/groups/' + cfg.shareCode).then(function (g) { self.mine = g.my_seat || null; self.render(); });
  };

  GroupPage.prototype.listen = function () {
    var self = this, source = new EventSource(cfg.apiBase + '/api/groups/' + cfg.shareCode + '/events');
    ['snapshot', 'member_joined', 'seat_reserved', 'seat_released', 'group_formed', 'group_succeeded',
     'group_failed', 'group_cancelled', 'group_in_review', 'heartbeat'].forEach(function (type) {
      source.addEventListener(type, function (msg) { self.apply(type, JSON.parse(msg.data)); });
    });
    this.source = source;
  };

  GroupPage.prototype.join = function () {
    var self = this;
    flash('');
    ensureToken().then(function () {
      var body = picked();
      if (cfg.payVia) body.pay_via = cfg.payVia;  // in WeChat's browser: the order is the official account's
      return api('POST', '/api/groups/' + cfg.shareCode + '/join', body);
    }).then(function (checkout) {
      self.mine = checkout.group.my_seat;
      self.myAmount = checkout.order.amount_fen;
      self.joining = true;
      self.render();
      return pay(checkout);
    }).then(function () {
      flash('支付成功，正在确认…');
      setTimeout(function () { self.refreshMine(); flash(''); }, 800);
    }).catch(function (err) {
      if (err && err.code === 'login_needed') return;
      if (err && err.code === 'group_full') { self.group.reserved_count = self.group.size; }
      flash((err && err.message) || '出错了，请重试');
      self.refreshMine();
    });
  };

  function startGroupPage() {
    syncClock(cfg.group.server_time);
    var page = new GroupPage(cfg.group);
    page.render();
    page.tick();
    setInterval(page.tick.bind(page), 250);
    page.listen();
    if ($('join-button')) $('join-button').onclick = function (e) { e.preventDefault(); page.join(); };
    if ($('login-go')) $('login-go').onclick = function (e) { e.preventDefault(); page.join(); };
    if (token() && !cfg.token) page.refreshMine();
    window.pinkePage = page;
  }

  /* ---- the campaign page: open a group, or join one still short ------------------------------ */
  function startCampaignPage() {
    syncClock(cfg.server_time);
    var open = $('open-group');
    if (!open) return;
    open.onclick = function (e) {
      e.preventDefault();
      flash('');
      ensureToken().then(function () {
        return api('POST', '/api/groups', picked({ campaign_id: cfg.campaignId }));
      }).then(function (checkout) {
        return pay(checkout).then(function () { location.href = '/g/' + checkout.group.share_code; });
      }).catch(function (err) { if (!err || err.code !== 'login_needed') flash((err && err.message) || '出错了'); });
    };
    if ($('login-go')) $('login-go').onclick = open.onclick;
  }

  /* What other pages' scripts share (static/room.js: the warm-up live room). */
  window.Pinke = { cfg: cfg, api: api, ensureToken: ensureToken, flash: flash, syncClock: syncClock, now: now, token: token };

  if (cfg.page === 'group') startGroupPage(); else startCampaignPage();
})();
