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

  // An avatar shows before it is uploaded (a blob: URL, allowed by the CSP for images).
  document.addEventListener("change", function (e) {
    var input = e.target;
    var preview = input.dataset && input.dataset.preview && document.getElementById(input.dataset.preview);
    if (!preview || !input.files || !input.files[0]) return;
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.src = URL.createObjectURL(input.files[0]);
    preview.hidden = false;
  });

  // In a send box, Enter sends and Shift+Enter starts a new line.
  document.addEventListener("keydown", function (e) {
    var box = e.target.closest && e.target.closest("form[data-enter-sends]");
    if (!box || e.key !== "Enter" || e.shiftKey || e.isComposing) return;
    e.preventDefault();
    if (e.target.value.trim() !== "") box.requestSubmit();
  });

  // The open chat keeps its newest message in view.
  function scrollHistory() {
    var history = document.getElementById("history");
    if (history) history.scrollTop = history.scrollHeight;
  }
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail.elt && e.detail.elt.id === "history") scrollHistory();
  });
  scrollHistory();

  if (!me) return;

  function csrfToken() {
    try { return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; } catch (_) { return ""; }
  }

  function trigger(name) {
    if (window.htmx) window.htmx.trigger(document.body, name);
  }

  // `27.11.2026 14:05` (UTC), as the server writes times.
  function formatTime(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
    return m ? m[3] + "." + m[2] + "." + m[1] + " " + m[4] + ":" + m[5] : "";
  }

  // A message as the server renders it (src/web/pages/messenger.rs, message_item); text only.
  function messageItem(m) {
    var li = document.createElement("li");
    li.className = "message" + (m.author && m.author.id === me ? " mine" : "");
    li.id = "msg-" + m.id;
    var meta = document.createElement("div");
    meta.className = "meta";
    var name = document.createElement("a");
    name.className = "name";
    name.href = "/app/users/" + encodeURIComponent(m.author ? m.author.id : "");
    name.textContent = fullName(m.author);
    var time = document.createElement("time");
    time.dateTime = m.createdAt || "";
    time.textContent = formatTime(m.createdAt);
    meta.append(name, " ", time);
    if (m.editedAt) meta.append(" ", editedMark());
    if (m.author && m.author.id === me) {
      // Sent; messages_read counts who reads it.
      var ticks = document.createElement("span");
      ticks.className = "ticks";
      ticks.textContent = "✓";
      meta.append(" ", ticks);
    }
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = m.text || "";
    li.append(meta, text);
    return li;
  }

  // Who has read what in the open chat (src/web/pages/messenger.rs, message_item): a message's
  // `data-read-here` names members who have read it, and so every message above it. My messages
  // show how many are named at them or below: ✓ nobody, ✓✓ one, "✓✓ N" from two on.
  function readersAt(li) {
    return (li.dataset.readHere || "").split(" ").filter(Boolean);
  }
  function setReadersAt(li, ids) {
    var unique = ids.filter(function (id, i) { return ids.indexOf(id) === i; });
    if (unique.length) li.dataset.readHere = unique.join(" ");
    else delete li.dataset.readHere;
  }
  function countReaders() {
    var history = document.getElementById("history");
    var label = history && history.dataset.seenBy;
    var items = document.querySelectorAll("#messages li.message");
    var readers = {};
    var n = 0;
    for (var i = items.length - 1; i >= 0; i--) {
      readersAt(items[i]).forEach(function (id) {
        if (id !== me && !readers[id]) {
          readers[id] = true;
          n++;
        }
      });
      var ticks = items[i].classList.contains("mine") && items[i].querySelector(".meta .ticks");
      if (!ticks) continue;
      ticks.classList.toggle("read", n > 0);
      ticks.textContent = n === 0 ? "✓" : n === 1 ? "✓✓" : "✓✓ " + n;
      if (label) ticks.title = label + " " + n;
    }
  }

  function editedMark() {
    var mark = document.createElement("span");
    mark.className = "edited";
    mark.textContent = body.dataset.edited || "edited";
    return mark;
  }

  function toast(text) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast";
    el.textContent = text; // never innerHTML: event text is user-written
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 5000);
  }

  // htmx shows nothing for an error answer: a write refused by a limit would vanish without a word.
  document.addEventListener("htmx:responseError", function (e) {
    if (e.detail.xhr && e.detail.xhr.status === 429) toast(body.dataset.slowDown);
  });

  // The dots, and a profile's "online" / "last seen …" line as the server writes it
  // (src/web/pages/profile.rs, last_seen) in the page's language, which the line carries.
  function setOnline(userId, online, lastOnlineAt) {
    var who = CSS.escape(userId);
    document.querySelectorAll('[data-presence="' + who + '"]').forEach(function (dot) {
      dot.classList.toggle("on", online);
    });
    document.querySelectorAll('[data-presence-text="' + who + '"]').forEach(function (line) {
      if (online) {
        line.textContent = line.dataset.online;
      } else if (lastOnlineAt) {
        var time = document.createElement("time");
        time.dateTime = lastOnlineAt;
        time.textContent = formatTime(lastOnlineAt);
        line.replaceChildren(line.dataset.lastSeen + " ", time);
      }
    });
  }

  function fullName(user) {
    return user ? (user.firstName || "") + " " + (user.lastName || "") : "";
  }

  // "Anna is typing…" under the open chat, for a few seconds after each `typing`
  // (src/core/typing.rs: SHOWN_FOR), or until Anna's message arrives.
  var TYPING_SHOWN_MS = 6000;
  var typists = {};
  function showTyping() {
    var line = document.getElementById("typing");
    if (!line) return;
    var names = Object.keys(typists).map(function (id) { return typists[id].name; });
    line.textContent = names.length ? names.join(", ") + " " + (body.dataset.typing || "is typing…") : "";
  }
  function stopTyping(userId) {
    if (!typists[userId]) return;
    clearTimeout(typists[userId].timer);
    delete typists[userId];
    showTyping();
  }

  // Typing in the send box tells the chat, at most every few seconds.
  var toldTypingAt = 0;
  document.addEventListener("input", function (e) {
    var chat = document.getElementById("chat");
    if (!chat || !chat.dataset.chatId || !e.target.closest || !e.target.closest("#send-box")) return;
    if (Date.now() - toldTypingAt < 3000) return;
    toldTypingAt = Date.now();
    fetch("/app/messenger/" + encodeURIComponent(chat.dataset.chatId) + "/typing", {
      method: "POST",
      headers: { "X-CSRF-Token": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    });
  });

  var handlers = {
    typing: function (p) {
      var chat = document.getElementById("chat");
      if (!chat || chat.dataset.chatId !== p.chatId || !p.user) return;
      stopTyping(p.user.id);
      typists[p.user.id] = {
        name: p.user.firstName || "",
        timer: setTimeout(function () { stopTyping(p.user.id); }, TYPING_SHOWN_MS),
      };
      showTyping();
    },
    presence: function (p) { setOnline(p.userId, !!p.online, p.lastOnlineAt); },
    new_message: function (p) {
      if (p.author) stopTyping(p.author.id);
      var chat = document.getElementById("chat");
      var open = chat && chat.dataset.chatId === p.chatId;
      if (open) {
        var list = document.getElementById("messages");
        if (list && !document.getElementById("msg-" + p.id)) {
          list.appendChild(messageItem(p));
          scrollHistory();
        }
        // Seen as it arrived: not unread.
        fetch("/app/messenger/" + encodeURIComponent(p.chatId) + "/read", {
          method: "POST",
          headers: { "X-CSRF-Token": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
          body: "",
        }).finally(function () { trigger("chats-changed"); });
        return;
      }
      if (p.author && p.author.id !== me) {
        toast(fullName(p.author) + ": " + (p.text || "").slice(0, 140));
      }
      trigger("chats-changed");
    },
    chat_updated: function () { trigger("chats-changed"); },
    // An author changed or took back a message: wherever it is shown, and in the chat list.
    message_updated: function (p) {
      var item = document.getElementById("msg-" + p.id);
      if (item) {
        var text = item.querySelector(".text");
        if (text) text.textContent = p.text || "";
        var box = item.querySelector("form.edit textarea");
        if (box) box.value = p.text || "";
        var meta = item.querySelector(".meta");
        if (meta && !meta.querySelector(".edited")) meta.append(" ", editedMark());
      }
      trigger("chats-changed");
    },
    // Someone else read the open chat up to a message: they move there, and my messages are
    // counted again, in place. (Reloading the history instead raced with messages arriving live:
    // a reload read before a new message committed would swap out the message the script had
    // just added.)
    messages_read: function (p) {
      var chat = document.getElementById("chat");
      if (p.userId === me || !chat || chat.dataset.chatId !== p.chatId) return;
      var items = Array.prototype.slice.call(document.querySelectorAll("#messages li.message"));
      var at = items.indexOf(document.getElementById("msg-" + p.upTo));
      if (at < 0) return;
      // A mark only moves down: a receipt at or above where they already are adds nothing.
      var were = -1;
      items.forEach(function (li, i) { if (readersAt(li).indexOf(p.userId) >= 0) were = i; });
      if (were >= at) return;
      items.forEach(function (li) {
        setReadersAt(li, readersAt(li).filter(function (id) { return id !== p.userId; }));
      });
      setReadersAt(items[at], readersAt(items[at]).concat(p.userId));
      countReaders();
    },
    message_removed: function (p) {
      var item = document.getElementById("msg-" + p.messageId);
      if (item) {
        // Whoever had read it had read the one above it too.
        var above = item.previousElementSibling;
        if (above) setReadersAt(above, readersAt(above).concat(readersAt(item)));
        item.remove();
      }
      trigger("chats-changed");
    },
    post_liked: function (p) {
      toast("♥ " + fullName(p.liker) + ": " + (p.message || "").slice(0, 80));
      document.querySelectorAll('[data-likes="' + CSS.escape(p.id) + '"]').forEach(function (c) {
        c.textContent = String(Number(c.textContent) + 1);
      });
    },
    comment_liked: function (p) { toast("♥ " + fullName(p.liker) + ": " + (p.message || "").slice(0, 80)); },
    friend_request: function (p) {
      toast("+ " + fullName(p.requester));
      if (window.htmx) window.htmx.trigger(document.body, "friends-changed");
    },
    friend_request_accepted: function (p) { toast("✓ " + fullName(p.responder)); },
  };

  // Whatever happened while the socket was down: fetch the open chat and the lists again.
  function reload() {
    trigger("resync");
    trigger("chats-changed");
    trigger("friends-changed");
  }

  var delay = 1000;
  var connectedBefore = false;
  // The last event's place in the server's log: a new socket resumes after it and gets exactly
  // what this page missed, instead of reloading everything (README, "Resumable sockets").
  var cursor = null;
  // A resume replays what was missed, then the live events: until the last replayed one has
  // been applied, the cursor moves with each of them; after it, to where the server's log was.
  var replaying = 0;
  var resumedAt = null;
  var status = {
    ready: function (p) {
      cursor = p.cursor || null;
      // A new start after a cut (no cursor was known yet): nothing tells what was missed.
      if (connectedBefore) reload();
    },
    resumed: function (p) {
      replaying = p.missed || 0;
      resumedAt = p.cursor || null;
      if (replaying === 0 && resumedAt) cursor = resumedAt;
    },
    resync_required: function (p) {
      cursor = p.cursor || null;
      reload();
    },
  };
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + "/ws?cursor=" + encodeURIComponent(cursor || ""));
    ws.onopen = function () {
      delay = 1000;
      body.classList.remove("offline");
      body.dataset.live = "on";
    };
    ws.onmessage = function (e) {
      var event;
      try { event = JSON.parse(e.data); } catch (_) { return; }
      if (status[event.type]) {
        status[event.type](event.payload || {});
        connectedBefore = true;
        return;
      }
      var handle = handlers[event.type];
      if (handle) handle(event.payload || {});
      if (event.cursor) {
        cursor = event.cursor;
        if (replaying > 0 && --replaying === 0 && resumedAt) cursor = resumedAt;
      }
    };
    // What the close code says decides what comes next (the README lists every code).
    ws.onclose = function (e) {
      body.classList.add("offline");
      body.dataset.live = "off";
      if (e.code === 4001) {
        // Signed out (here or in another tab or device): the session is gone for good.
        location.assign("/app/login");
        return;
      }
      if (e.code === 1001 || e.code === 1012) {
        // A node going away: another one (or this one, restarted) takes the socket now.
        setTimeout(connect, Math.random() * 500);
        return;
      }
      // 1013 (too slow), 1009, or a dropped connection: back off before trying again.
      setTimeout(connect, delay + Math.random() * delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
