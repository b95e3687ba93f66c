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

  // A refusal said beside its form (src/web/pages/mod.rs, refused_here): htmx leaves error
  // answers out unless told; one that names where it goes is put there. It stays an error, so
  // the form keeps what was typed.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status === 400 && xhr.getResponseHeader("HX-Retarget")) e.detail.shouldSwap = true;
  });
  // Sent at last: what the form said about an earlier try goes.
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    if (!e.detail.successful || !form || !form.querySelectorAll) return;
    form.querySelectorAll("[data-form-error]").forEach(function (el) { el.textContent = ""; });
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

  // A message's edit box (src/web/pages/messenger/templates.rs, message_item): it opens with the cursor at
  // the end of the text and grows with it; Enter saves (data-enter-sends, above); Escape puts the
  // text back and closes it.
  function fitRows(box) {
    box.rows = Math.max(1, box.value.split("\n").length);
    while (box.scrollHeight > box.clientHeight + 1 && box.rows < 12) box.rows += 1;
  }
  document.addEventListener("toggle", function (e) {
    var details = e.target;
    if (!details.matches || !details.matches("details.message-actions") || !details.open) return;
    var box = details.querySelector("textarea[data-autosize]");
    if (!box) return;
    fitRows(box);
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }, true);
  document.addEventListener("input", function (e) {
    if (e.target.matches && e.target.matches("textarea[data-autosize]")) fitRows(e.target);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || !e.target.matches || !e.target.matches("form.edit textarea")) return;
    var item = e.target.closest("li.message");
    var text = item && item.querySelector(".text");
    e.target.value = text ? text.textContent : e.target.defaultValue;
    var details = e.target.closest("details");
    if (details) details.open = false;
  });

  // The header's search box: on the results page it keeps the words searched for; the arrow
  // keys walk from it into the suggestions under it and back, Escape closes them.
  var searchBox = document.querySelector("form.search input[name=text]");
  if (searchBox && location.pathname === "/app/search" && !searchBox.value) {
    searchBox.value = new URLSearchParams(location.search).get("text") || "";
  }
  document.addEventListener("keydown", function (e) {
    var form = e.target.closest && e.target.closest("form.search");
    if (!form || (e.key !== "ArrowDown" && e.key !== "ArrowUp" && e.key !== "Escape")) return;
    var box = form.querySelector("input[name=text]");
    var results = form.querySelector("#search-results");
    if (e.key === "Escape") {
      if (results) results.replaceChildren();
      if (box) box.focus();
      return;
    }
    var links = results ? Array.prototype.slice.call(results.querySelectorAll("a.name")) : [];
    if (!links.length) return;
    var at = links.indexOf(document.activeElement);
    e.preventDefault();
    if (e.key === "ArrowDown") links[Math.min(at + 1, links.length - 1)].focus();
    else if (at <= 0) box.focus();
    else links[at - 1].focus();
  });

  // Times in the viewer's zone and language (src/web/pages/posts.rs, when_as): the server can
  // only write UTC. Every <time datetime> is written again here — those arriving live or in htmx
  // swaps too — and again each minute, so "5 min ago" stays true; an open chat gets a line over
  // the first message of each day instead of a date on every message.
  var timeWords = {};
  try { timeWords = JSON.parse(body.dataset.when || "{}"); } catch (_) { timeWords = {}; }
  var pageLang = document.documentElement.lang || "en";
  // The browser's own variant of the page's language (en-GB writes "7 December", en-US "December 7").
  var timeLocale = (navigator.languages || [navigator.language]).filter(function (l) {
    return l && l.split("-")[0] === pageLang;
  })[0] || pageLang;
  function dateFormat(options) {
    try { return new Intl.DateTimeFormat(timeLocale, options); } catch (_) { return new Intl.DateTimeFormat(undefined, options); }
  }
  var clockFormat = dateFormat({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  var dayFormat = dateFormat({ day: "numeric", month: "long" });
  var shortDayFormat = dateFormat({ day: "numeric", month: "short" });
  var yearDayFormat = dateFormat({ day: "numeric", month: "long", year: "numeric" });
  var fullFormat = dateFormat({ dateStyle: "full", timeStyle: "short", hourCycle: "h23" });
  function timeSaying(key, values) {
    var text = timeWords[key] || "";
    Object.keys(values).forEach(function (k) { text = text.replace("{" + k + "}", values[k]); });
    return text;
  }
  // Calendar days from `d` to `now` in the browser's zone: 0 today, 1 yesterday.
  function daysBefore(d, now) {
    var day = function (x) { return Date.UTC(x.getFullYear(), x.getMonth(), x.getDate()); };
    return Math.round((day(now) - day(d)) / 86400000);
  }
  function dayName(d, now) {
    var days = daysBefore(d, now);
    if (days === 0) return timeWords.today || "";
    if (days === 1) return timeWords.yesterday || "";
    return d.getFullYear() === now.getFullYear() ? dayFormat.format(d) : yearDayFormat.format(d);
  }
  function localTime(d, style, now) {
    var clock = clockFormat.format(d);
    var days = daysBefore(d, now);
    if (style === "clock") return clock;
    if (style === "short") {
      if (days === 0) return clock;
      return d.getFullYear() === now.getFullYear() ? shortDayFormat.format(d) : yearDayFormat.format(d);
    }
    var seconds = (now - d) / 1000;
    if (seconds < 60) return timeSaying("justNow", {});
    if (seconds < 3600) return timeSaying("minAgo", { n: Math.floor(seconds / 60) });
    if (days === 0) return timeSaying("todayAt", { t: clock });
    if (days === 1) return timeSaying("yesterdayAt", { t: clock });
    if (d.getFullYear() === now.getFullYear()) return timeSaying("dateAt", { d: dayFormat.format(d), t: clock });
    return yearDayFormat.format(d);
  }
  function showTimes() {
    var now = new Date();
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      var text = localTime(d, el.dataset.style || "relative", now);
      if (el.textContent !== text) el.textContent = text;
      var title = fullFormat.format(d);
      if (el.title !== title) el.title = title;
    });
    var shownDay = null;
    document.querySelectorAll("#messages li.message").forEach(function (li) {
      var time = li.querySelector(".meta time[datetime]");
      var d = time ? new Date(time.getAttribute("datetime")) : null;
      var name = d && !isNaN(d) ? dayName(d, now) : null;
      var line = li.querySelector(":scope > .day");
      if (name === null || name === shownDay) {
        if (line) line.remove();
        return;
      }
      shownDay = name;
      if (!line) {
        line = document.createElement("div");
        line.className = "day";
        li.prepend(line);
      }
      if (line.textContent !== name) line.textContent = name;
    });
  }
  var timesDue = false;
  function showTimesSoon() {
    if (timesDue) return;
    timesDue = true;
    setTimeout(function () { timesDue = false; showTimes(); }, 0);
  }
  // Elements coming or going (not the text of a time, nor a day line: those are ours).
  function concernsTimes(nodes) {
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i];
      if (n.nodeType === 1 && !n.classList.contains("day") && n.tagName !== "TIME") return true;
    }
    return false;
  }
  new MutationObserver(function (records) {
    if (records.some(function (r) { return concernsTimes(r.addedNodes) || concernsTimes(r.removedNodes); })) showTimesSoon();
  }).observe(body, { childList: true, subtree: true });
  showTimes();
  setInterval(showTimes, 60000);

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

  // A message as the server renders it (src/web/pages/messenger/templates.rs, message_item); text only.
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
    time.dataset.style = "clock";
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

  // Who has read what in the open chat (src/web/pages/messenger/templates.rs, message_item): a message's
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

  // A toast; with `href`, clicking it opens what it tells of.
  function toast(text, href) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement(href ? "a" : "div");
    el.className = "toast";
    if (href) el.href = href;
    el.textContent = text; // never innerHTML: event text is user-written
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 5000);
  }

  // What a toast says, in the page's language (src/web/i18n.rs, toast_*): `{name}` and `{text}`
  // filled in.
  var sayings = {};
  try { sayings = JSON.parse(body.dataset.say || "{}"); } catch (_) { sayings = {}; }
  function say(key, user, text) {
    var template = sayings[key] || "{name}: {text}";
    // One pass: a name that contains "{text}" stays as written.
    return template.replace(/\{(name|text)\}/g, function (_, part) {
      return part === "name" ? fullName(user) : text || "";
    });
  }

  // At most about `max` characters, cut after a whole word, with an ellipsis when cut.
  function clip(text, max) {
    text = (text || "").replace(/\s+/g, " ").trim();
    if (text.length <= max) return text;
    var cut = text.slice(0, max + 1);
    var space = cut.lastIndexOf(" ");
    cut = space > max / 2 ? cut.slice(0, space) : text.slice(0, max);
    return cut.replace(/[\s.,;:!?-]+$/, "") + "…";
  }

  var app = "/app";

  // The friendship controls for someone (and, on their page, the post form only friends have),
  // fetched anew where the page shows them: a friendship changed elsewhere.
  function refreshStanding(userId) {
    if (!userId || !window.htmx || !document.getElementById("friendship-" + userId)) return;
    window.htmx.ajax("GET", app + "/friends/" + encodeURIComponent(userId) + "/controls", {
      target: "#friendship-" + CSS.escape(userId),
      swap: "outerHTML",
    });
  }

  // The friends page's list, fetched anew when a request comes or a friendship changes.
  function refreshFriendsList() {
    var list = document.querySelector("section.friends");
    if (!list || !window.htmx) return;
    window.htmx.ajax("GET", location.pathname + location.search, {
      target: "section.friends",
      select: "section.friends",
      swap: "outerHTML",
    });
  }

  // The tab's title counts the chats with unread messages, as the Messenger item's badge does.
  var baseTitle = document.title.replace(/^\(\d+\) /, "");
  function showUnreadInTitle() {
    var badge = document.querySelector("#messenger-badge [data-unread-chats]");
    var n = badge ? Number(badge.dataset.unreadChats) : 0;
    document.title = (n > 0 ? "(" + n + ") " : "") + baseTitle;
  }
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "messenger-badge") showUnreadInTitle();
  });

  // A group as it now is (a `chat_updated`), in its open chat: the title (the rename field's
  // too, so that saving it would not put the old name back) and the members.
  function showGroup(p) {
    var chat = document.getElementById("chat");
    if (!chat || chat.dataset.chatId !== p.id || p.type !== "group") return;
    var members = p.members || [];
    if (!members.some(function (m) { return m.id === me; })) {
      location.assign(app + "/messenger"); // left, from another tab
      return;
    }
    var heading = document.getElementById("chat-title");
    if (heading && typeof p.title === "string") {
      heading.textContent = p.title;
      baseTitle = p.title + " · Nosebook";
      showUnreadInTitle();
    }
    document.querySelectorAll(".group-settings input[name=title]").forEach(function (field) {
      if (document.activeElement === field || typeof p.title !== "string") return;
      field.value = p.title;
      field.setAttribute("value", p.title);
    });
    document.querySelectorAll(".group-settings .members").forEach(function (line) {
      var names = [];
      members.forEach(function (m) {
        var link = document.createElement("a");
        link.className = "name";
        link.href = app + "/users/" + encodeURIComponent(m.id);
        link.textContent = fullName(m);
        names.push(link, " ");
      });
      line.replaceChildren.apply(line, names);
    });
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

  // A member read the open chat up to a message: they move there, and my messages are counted
  // again, in place.
  function applyReceipt(userId, upTo) {
    var items = Array.prototype.slice.call(document.querySelectorAll("#messages li.message"));
    var at = items.indexOf(document.getElementById("msg-" + upTo));
    if (at < 0) return;
    // A mark only moves down: a receipt at or above where they already are adds nothing.
    var were = -1;
    items.forEach(function (li, i) { if (readersAt(li).indexOf(userId) >= 0) were = i; });
    if (were >= at) return;
    items.forEach(function (li) {
      setReadersAt(li, readersAt(li).filter(function (id) { return id !== userId; }));
    });
    setReadersAt(items[at], readersAt(items[at]).concat(userId));
    countReaders();
  }
  // The newest receipt of each member in the open chat. A history swapped in after a send was
  // rendered when the send committed: a receipt applied meanwhile is not in it, so it is applied
  // again (without this, a message read at once kept "✓" until a reload).
  var receipts = {};
  document.addEventListener("htmx:afterSettle", function (e) {
    var chat = document.getElementById("chat");
    if (!chat || !e.detail.elt || e.detail.elt.id !== "history") return;
    Object.keys(receipts).forEach(function (userId) {
      var receipt = receipts[userId];
      if (receipt.chatId === chat.dataset.chatId) applyReceipt(userId, receipt.upTo);
    });
  });

  // News (src/web/pages/news.rs): friends' new posts are counted on a button on top; a click puts
  // them there, fetched as the posts written since the list's newest, and leaves the rest of
  // the list as it is.
  var newPosts = {};
  function plural(forms, n) {
    var byCategory = {};
    forms.split("|").forEach(function (form) {
      var at = form.indexOf("=");
      byCategory[form.slice(0, at)] = form.slice(at + 1);
    });
    var category = new Intl.PluralRules(document.documentElement.lang || "en").select(n);
    return (byCategory[category] || byCategory.other || "").replace("{n}", String(n));
  }
  function showNewPosts() {
    var news = document.getElementById("news");
    var button = document.getElementById("new-posts");
    if (!news || !button) return;
    var count = Object.keys(newPosts).length;
    button.textContent = plural(news.dataset.newPosts || "", count);
    button.hidden = count === 0;
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("#new-posts");
    if (!button || !window.htmx) return;
    var top = document.getElementById("news-top");
    var since = top && top.dataset.since;
    newPosts = {};
    showNewPosts();
    window.htmx.ajax("GET", app + "/news/newer" + (since ? "?since=" + encodeURIComponent(since) : ""), {
      target: "#posts",
      swap: "afterbegin",
    }).then(function () {
      // A post written here was put on top when it was sent: keep the first of each.
      var seen = {};
      document.querySelectorAll("#posts > article.post").forEach(function (post) {
        if (seen[post.id]) post.remove();
        seen[post.id] = true;
      });
      var empty = document.querySelector("#posts > p.empty");
      if (empty && Object.keys(seen).length) empty.remove();
    });
  });

  var handlers = {
    // A friend posted: counted on the news' button, if the news are open.
    feed_post: function (p) {
      if (!document.getElementById("news") || document.getElementById("post-" + p.id)) return;
      newPosts[p.id] = true;
      showNewPosts();
    },
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
        toast(fullName(p.author) + ": " + clip(p.text, 140), app + "/messenger/" + encodeURIComponent(p.chatId));
      }
      trigger("chats-changed");
    },
    chat_updated: function (p) {
      showGroup(p);
      trigger("chats-changed");
    },
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
      // Read on another tab or device: fewer chats wait.
      if (p.userId === me) trigger("chats-changed");
      if (p.userId === me || !chat || chat.dataset.chatId !== p.chatId) return;
      receipts[p.userId] = { chatId: p.chatId, upTo: p.upTo };
      applyReceipt(p.userId, p.upTo);
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
      toast("♥ " + say("postLiked", p.liker, clip(p.message, 80)), app + "/posts/" + encodeURIComponent(p.id));
      document.querySelectorAll('[data-likes="' + CSS.escape(p.id) + '"]').forEach(function (c) {
        c.textContent = String(Number(c.textContent) + 1);
      });
    },
    comment_liked: function (p) {
      toast("♥ " + say("commentLiked", p.liker, clip(p.message, 80)), app + "/comments/" + encodeURIComponent(p.id));
    },
    friend_request: function (p) {
      toast(say("request", p.requester), app + "/friends?tab=incoming");
      trigger("friends-changed");
      refreshStanding(p.requesterId);
      refreshFriendsList();
    },
    friend_request_accepted: function (p) {
      toast(say("accepted", p.responder), app + "/users/" + encodeURIComponent(p.responderId));
      trigger("friends-changed");
      refreshStanding(p.responderId);
      refreshFriendsList();
    },
    // A request to me was taken back: it leaves the list and the count.
    friend_request_cancelled: function (p) {
      trigger("friends-changed");
      refreshStanding(p.requesterId);
      refreshFriendsList();
    },
    // Someone ended the friendship: their page stops offering what only friends may do.
    friend_removed: function (p) {
      refreshStanding(p.responderId);
      refreshFriendsList();
    },
    // Someone wrote on my wall: on top of it, if it is open.
    post_published: function (p) {
      toast(say("posted", p.author, clip(p.message, 80)), app + "/posts/" + encodeURIComponent(p.id));
      var wall = document.querySelector('#posts[data-owner="' + CSS.escape(p.ownerId) + '"]');
      if (!wall || !window.htmx || document.getElementById("post-" + p.id)) return;
      window.htmx.ajax("GET", app + "/posts/" + encodeURIComponent(p.id), { target: "#posts", swap: "afterbegin" })
        .then(function () {
          var empty = wall.querySelector(":scope > p.empty");
          if (empty) empty.remove();
        });
    },
    // Someone commented on my post, or on one on my wall: under it, if it is shown.
    comment_published: function (p) {
      var href = app + "/posts/" + encodeURIComponent(p.postId) + "#comment-" + encodeURIComponent(p.id);
      toast(say("commented", p.author, clip(p.message, 80)), href);
      var list = document.getElementById("comments-" + p.postId);
      if (!list || !window.htmx || document.getElementById("comment-" + p.id)) return;
      window.htmx.ajax("GET", app + "/comments/" + encodeURIComponent(p.id), {
        target: "#comments-" + CSS.escape(p.postId),
        swap: "beforeend",
      });
    },
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
  // what this page missed, instead of reloading everything (docs/decisions.md, "Resumable sockets").
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
    // What the close code says decides what comes next (docs/decisions.md lists every code).
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
