/* Live chat in the coordinators' inbox (docs/live-chat.md): the live queue and the chat page.
 *
 * Served from the inbox itself (CSP: script-src 'self'; connect-src 'self'); no inline script,
 * no library. Everything a visitor wrote is put into the page with textContent only, never as
 * HTML. Without this script the pages still work with plain form posts (reload to see more).
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function csrfToken() {
    var input = document.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function minutesSince(iso) {
    var then = Date.parse(iso);
    if (isNaN(then)) return "";
    var seconds = Math.max(0, Math.round((Date.now() - then) / 1000));
    if (seconds < 60) return seconds + " s";
    return Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
  }

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      var context = new Context();
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      oscillator.frequency.value = 880;
      gain.gain.value = 0.1;
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start();
      oscillator.stop(context.currentTime + 0.25);
      oscillator.onended = function () { context.close(); };
    } catch (error) {
      /* no sound: the title still changes */
    }
  }

  /* ------------------------------------------------------------ the live queue */

  function startQueue(root) {
    var rows = document.querySelector("[data-live-rows]");
    var status = document.querySelector("[data-live-status]");
    var sound = document.querySelector("[data-sound]");
    var baseTitle = document.title;
    // The chats the page was rendered with: one that arrives before the event stream connects
    // is new too, and changes the title.
    var known = {};
    Array.prototype.forEach.call(rows.querySelectorAll("th a"), function (link) {
      known[link.textContent.trim()] = true;
    });
    var latest = [];

    function joinForm(chat) {
      var form = el("form", "inline");
      form.method = "post";
      form.action = chat.url + "/join";
      var token = el("input");
      token.type = "hidden";
      token.name = "csrf_token";
      token.value = csrfToken();
      var button = el("button", "button", "Join");
      button.type = "submit";
      form.appendChild(token);
      form.appendChild(button);
      return form;
    }

    function render(chats) {
      latest = chats;
      while (rows.firstChild) rows.removeChild(rows.firstChild);
      if (!chats.length) {
        var empty = el("td", "empty", "No visitor is waiting.");
        empty.colSpan = 6;
        var row = el("tr");
        row.appendChild(empty);
        rows.appendChild(row);
      }
      chats.forEach(function (chat) {
        var row = el("tr", chat.alert ? "alert-row" : "");
        var head = el("th");
        head.scope = "row";
        var link = el("a", "", chat.reference);
        link.href = chat.url;
        head.appendChild(link);
        if (chat.alert) {
          head.appendChild(document.createTextNode(" "));
          head.appendChild(el("span", "badge alert", "Safety alert"));
        }
        row.appendChild(head);
        var since = el("td");
        var time = el("time", "", minutesSince(chat.queued_at));
        time.dateTime = chat.queued_at;
        time.setAttribute("data-since", "");
        since.appendChild(time);
        row.appendChild(since);
        row.appendChild(el("td", "", chat.reason));
        row.appendChild(el("td", "", chat.topics.length ? chat.topics.join(", ") : "—"));
        var state;
        if (chat.status === "waiting") state = "Waiting (number " + chat.position + ")";
        else if (chat.status === "joined") state = chat.mine ? "With you" : "With " + chat.coordinator;
        else state = "Handed back by " + chat.coordinator;
        row.appendChild(el("td", "", state));
        var action = el("td");
        if (chat.status === "waiting" || chat.status === "handed_back") action.appendChild(joinForm(chat));
        else {
          var open = el("a", "", "Open");
          open.href = chat.url;
          action.appendChild(open);
        }
        row.appendChild(action);
        rows.appendChild(row);
      });
      var waiting = chats.filter(function (chat) { return chat.status === "waiting"; });
      status.textContent = waiting.length + " waiting.";
      var fresh = waiting.filter(function (chat) { return !known[chat.reference]; });
      known = {};
      waiting.forEach(function (chat) { known[chat.reference] = true; });
      if (fresh.length) {
        document.title = "(" + waiting.length + ") Visitor waiting · " + baseTitle;
        status.textContent = "A visitor is waiting for a live chat. " + waiting.length + " waiting.";
        if (sound && sound.checked) beep();
      } else if (!waiting.length) {
        document.title = baseTitle;
      }
    }

    var source = new EventSource(root.getAttribute("data-stream"));
    source.addEventListener("queue", function (event) { render(JSON.parse(event.data)); });
    setInterval(function () {
      var times = rows.querySelectorAll("time[data-since]");
      Array.prototype.forEach.call(times, function (time) { time.textContent = minutesSince(time.dateTime); });
    }, 5000);
    window.addEventListener("focus", function () {
      if (latest.length) document.title = baseTitle;
    });
  }

  /* ------------------------------------------------------------ one chat */

  function label(line) {
    if (line.role === "visitor") return "Visitor";
    if (line.role === "coordinator") return (line.name || "Coordinator") + " (coordinator)";
    if (line.role === "notice") return "Live chat";
    return "Assistant";
  }

  function startChat(root) {
    var list = root.querySelector("[data-transcript]");
    var empty = root.querySelector("[data-empty]");
    var banner = root.querySelector("[data-alert]");
    var stateLine = root.querySelector("[data-chat-state]");
    var first = null;

    function append(line) {
      if (empty) empty.hidden = true;
      var item = el("li", "message " + line.role);
      var meta = el("p", "meta");
      meta.appendChild(el("strong", "", label(line)));
      meta.appendChild(document.createTextNode(" · "));
      var time = el("time", "", line.at ? new Date(line.at).toLocaleTimeString() : "");
      time.dateTime = line.at || "";
      meta.appendChild(time);
      item.appendChild(meta);
      item.appendChild(el("p", "visitor-text", line.text));
      list.appendChild(item);
      item.scrollIntoView({ block: "nearest" });
    }

    var source = new EventSource(root.getAttribute("data-stream"));
    source.addEventListener("message", function (event) { append(JSON.parse(event.data)); });
    source.addEventListener("alert", function () {
      banner.hidden = false;
      document.title = "Safety alert · " + document.title.replace(/^Safety alert · /, "");
    });
    source.addEventListener("state", function (event) {
      var state = JSON.parse(event.data);
      if (state.alert) banner.hidden = false;
      if (first === null) {
        first = state;
        return;
      }
      if (state.status !== first.status || state.mine !== first.mine) {
        stateLine.textContent = "This chat changed (" + state.status.replace("_", " ") + "). Reloading…";
        window.location.reload();
      }
    });

    var form = root.querySelector("[data-reply-form]");
    if (!form) return;
    var note = form.querySelector("[data-reply-status]");
    var text = form.querySelector("textarea");
    text.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!text.value.trim()) return;
      note.textContent = "Sending…";
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (result) {
          if (result.ok) {
            text.value = "";
            note.textContent = "Sent.";
          } else {
            note.textContent = result.body.error || "Not sent.";
          }
        })
        .catch(function () {
          note.textContent = "Not sent: the inbox could not be reached. Try again.";
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var queue = document.querySelector("[data-live-queue]");
    if (queue && window.EventSource) startQueue(queue);
    var chat = document.querySelector("[data-live-chat]");
    if (chat && window.EventSource) startChat(chat);
  });
})();
