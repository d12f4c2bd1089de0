/* Pinke H5: a warm-up live room (/r/<id>). Hand-written, no build step. Uses what static/pinke.js shares
 * (window.Pinke: the config, the API call, signing in, the notice line). Live over the room's SSE stream. */
(function () {
  'use strict';
  var P = window.Pinke, cfg = P.cfg;
  var $ = function (id) { return document.getElementById(id); };
  var STATUS = { scheduled: '即将开播', open: '直播中', closed: '已结束' };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function RoomPage(view) {
    this.room = view.room;
    this.posts = view.posts.slice();
    this.questions = view.questions.slice();
    this.me = view.me || null;
    this.pending = null;  // what to do once signed in: 'ask' or 'subscribe'
  }

  RoomPage.prototype.render = function () {
    var r = this.room;
    document.body.dataset.status = r.status;
    $('room-status').textContent = STATUS[r.status] || r.status;
    $('subscribe').hidden = r.status !== 'scheduled';
    if (this.me && this.me.subscribed) { $('subscribe').textContent = '已预约提醒'; $('subscribe').disabled = true; }
    $('ask').hidden = r.status === 'closed';
    this.renderPlayer();
    this.renderPosts();
    this.renderQuestions();
    this.tick();
  };

  RoomPage.prototype.renderPlayer = function () {
    var s = this.room.stream, box = $('player'), video = $('video');
    if (s.kind === 'hls') {
      if (video && video.getAttribute('src') === s.url) return;  // keep a playing video playing
      box.innerHTML = '';
      box.className = 'player has-video';
      video = el('video');
      video.id = 'video';
      video.controls = true;
      video.setAttribute('playsinline', '');
      video.setAttribute('webkit-playsinline', '');
      video.preload = 'none';
      video.src = s.url;
      box.appendChild(video);
    } else {
      box.className = 'player';
      box.textContent = s.kind === 'live_player' ? '直播在小程序里播放：请在微信中打开「拼课」小程序观看'
        : (this.room.status === 'closed' ? '直播已结束' : '直播开始后在这里播放');
    }
  };

  RoomPage.prototype.renderPosts = function () {
    var list = $('posts');
    list.innerHTML = '';
    if (!this.posts.length) { list.appendChild(el('li', 'empty', '老师还没有发言。')); return; }
    this.posts.forEach(function (p) {
      var item = el('li', 'post');
      item.dataset.id = p.id;
      var who = el('div', 'who');
      who.appendChild(el('b', '', p.author));
      who.appendChild(document.createTextNode(p.created_at ? new Date(p.created_at).toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit', timeZone: 'Asia/Shanghai' }) : ''));
      item.appendChild(who);
      if (p.kind === 'picture') {
        var img = el('img');
        img.loading = 'lazy';
        img.alt = p.body || '图片';
        img.src = p.picture_url;
        item.appendChild(img);
        if (p.body) item.appendChild(el('div', '', p.body));
      } else if (p.kind === 'stream') {
        item.appendChild(el('div', '', '直播地址已更新'));
      } else {
        item.appendChild(el('div', 'body', p.body));
      }
      list.appendChild(item);
    });
  };

  RoomPage.prototype.renderQuestions = function () {
    var list = $('questions');
    list.innerHTML = '';
    var shown = this.questions.slice().sort(function (a, b) { return (b.pinned - a.pinned) || (b.id - a.id); });
    if (!shown.length) { list.appendChild(el('li', 'empty', '还没有回答的问题。')); return; }
    shown.forEach(function (q) {
      var item = el('li', 'qa');
      item.dataset.id = q.id;
      var line = el('div', 'q');
      if (q.pinned) line.appendChild(el('span', 'pin', '置顶'));
      line.appendChild(document.createTextNode(q.text));
      item.appendChild(line);
      item.appendChild(el('div', 'who', q.asker.nickname));
      if (q.answer) {
        var a = el('div', 'a');
        a.appendChild(el('b', '', (q.answered_by || '老师') + '：'));
        a.appendChild(document.createTextNode(q.answer));
        item.appendChild(a);
      }
      list.appendChild(item);
    });
  };

  RoomPage.prototype.tick = function () {
    var r = this.room, when = $('when');
    if (r.status !== 'scheduled') { when.textContent = r.status === 'open' ? '正在直播' : '直播已结束，可以回看问答'; return; }
    var ms = Date.parse(r.starts_at) - P.now();
    if (ms <= 0) { when.textContent = r.starts_text + ' 开播，马上开始'; return; }
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    when.textContent = r.starts_text + ' 开播 · 还有 ' + (d ? d + '天' : '') + (h ? h + '小时' : '') + (d ? '' : m + '分钟');
  };

  RoomPage.prototype.apply = function (type, e) {
    P.syncClock(e.server_time);
    if (type === 'snapshot') {
      this.room = e.room; this.posts = e.posts.slice(); this.questions = e.questions.slice();
    } else if (type === 'post') {
      if (!this.posts.some(function (p) { return p.id === e.post.id; })) this.posts.push(e.post);
      if (e.post.kind === 'stream') this.room.stream = { url: e.post.body, kind: /\.m3u8(\?|$)/i.test(e.post.body) ? 'hls' : 'live_player' };
    } else if (type === 'question') {
      this.questions = this.questions.filter(function (q) { return q.id !== e.question.id; });
      if (e.question.public) this.questions.push(e.question);
    } else if (type === 'hidden') {
      var gone = function (x) { return x.id !== e.item_id; };
      if (e.kind === 'post') this.posts = this.posts.filter(gone); else this.questions = this.questions.filter(gone);
    } else if (type === 'room_opened' || type === 'room_closed' || type === 'room_updated') {
      this.room = e.room;
    } else {
      return;  // heartbeat: the clock is synced
    }
    this.render();
  };

  RoomPage.prototype.listen = function () {
    var self = this, source = new EventSource(cfg.apiBase + '/api/rooms/' + cfg.roomId + '/events');
    ['snapshot', 'post', 'question', 'hidden', 'room_opened', 'room_closed', 'room_updated', 'heartbeat'].forEach(function (type) {
      source.addEventListener(type, function (msg) { self.apply(type, JSON.parse(msg.data)); });
    });
    this.source = source;
  };

  /* Signed in (the H5 session's token, or the sandbox's by-name sign-in): the room counts the visit and says
   * whether this viewer is subscribed or muted. */
  RoomPage.prototype.refreshMe = function () {
    var self = this;
    return P.api('GET', '/api/rooms/' + cfg.roomId).then(function (view) { self.me = view.me; self.render(); });
  };

  RoomPage.prototype.signedIn = function (action) {
    var self = this;
    self.pending = action;
    return P.ensureToken().then(function (t) {
      self.pending = null;
      return (self.me ? Promise.resolve() : self.refreshMe()).then(function () { return t; });
    });
  };

  RoomPage.prototype.ask = function () {
    var self = this, text = $('ask-text').value.trim();
    P.flash('');
    if (!text) { $('ask-note').textContent = '先写下你的问题'; return; }
    self.signedIn('ask').then(function () {
      return P.api('POST', '/api/rooms/' + cfg.roomId + '/questions', { text: text });
    }).then(function () {
      $('ask-text').value = '';
      $('ask-note').textContent = '已提交，老师回答后会显示在问答里';
    }).catch(function (err) {
      if (err && err.code === 'login_needed') return;
      $('ask-note').textContent = (err && err.message) || '没有发出去，请重试';
    });
  };

  RoomPage.prototype.subscribe = function () {
    var self = this;
    P.flash('');
    self.signedIn('subscribe').then(function () {
      return P.api('POST', '/api/rooms/' + cfg.roomId + '/subscription');
    }).then(function () {
      self.me = self.me || {};
      self.me.subscribed = true;
      self.render();
      P.flash('已预约：开播前会提醒你');
    }).catch(function (err) {
      if (err && err.code === 'login_needed') return;
      P.flash((err && err.message) || '预约没有成功，请重试');
    });
  };

  function start() {
    var view = cfg.view;
    P.syncClock(view.server_time);
    var page = new RoomPage(view);
    page.render();
    setInterval(page.tick.bind(page), 1000);
    page.listen();
    $('ask-go').onclick = function (e) { e.preventDefault(); page.ask(); };
    $('subscribe').onclick = function (e) { e.preventDefault(); page.subscribe(); };
    if ($('login-go')) {
      $('login-go').onclick = function (e) {
        e.preventDefault();
        if (page.pending === 'subscribe') page.subscribe(); else page.ask();
      };
    }
    if (P.token()) page.refreshMe();
    window.pinkeRoom = page;
  }

  start();
})();
