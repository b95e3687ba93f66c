// Nosebook's live page: one WebSocket per tab (the session cookie authenticates it), events
// applied to what the page shows, reconnection with backoff. No inline script anywhere: the
// Content-Security-Policy forbids it.
(function () {
  "use strict";
  var body = document.body;
  var me = body.dataset.me;

  // Forms marked data-reset empty themselves after htmx sent them successfully.
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    if (e.detail.successful && form && form.hasAttribute && form.hasAttribute("data-reset")) form.reset();
  });

  if (!me) return;

  function toast(text) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast";
    el.textContent = text; // never innerHTML: event text is user-written
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 5000);
  }

  function setOnline(userId, online) {
    document.querySelectorAll('[data-presence="' + CSS.escape(userId) + '"]').forEach(function (dot) {
      dot.classList.toggle("on", online);
    });
  }

  function fullName(user) {
    return user ? (user.firstName || "") + " " + (user.lastName || "") : "";
  }

  var handlers = {
    presence: function (p) { setOnline(p.userId, !!p.online); },
    new_message: function (p) {
      if (p.author && p.author.id !== me) toast(fullName(p.author) + ": " + (p.text || "").slice(0, 140));
    },
    post_liked: function (p) {
      toast("♥ " + fullName(p.liker) + ": " + (p.message || "").slice(0, 80));
      document.querySelectorAll('[data-likes="' + CSS.escape(p.id) + '"] .count').forEach(function (c) {
        c.textContent = String(Number(c.textContent) + 1);
      });
    },
    comment_liked: function (p) { toast("♥ " + fullName(p.liker) + ": " + (p.message || "").slice(0, 80)); },
    friend_request: function (p) { toast("+ " + fullName(p.requester)); },
    friend_request_accepted: function (p) { toast("✓ " + fullName(p.responder)); },
  };

  var delay = 1000;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onopen = function () { delay = 1000; body.classList.remove("offline"); };
    ws.onmessage = function (e) {
      var event;
      try { event = JSON.parse(e.data); } catch (_) { return; }
      var handle = handlers[event.type];
      if (handle) handle(event.payload || {});
    };
    ws.onclose = function () {
      body.classList.add("offline");
      setTimeout(connect, delay + Math.random() * delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
