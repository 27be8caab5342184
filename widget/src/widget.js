// The clinic's chat widget: one <script> tag, Shadow DOM, Rasa's socket.io channel.
// See docs/widget.md for embedding, attributes, accessibility and how to build and test.

import { io } from "socket.io-client";
import { accentPalette } from "./colors.js";
import { DEFAULTS, findScript, readConfig } from "./config.js";
import { icon } from "./icons.js";
import * as storage from "./storage.js";
import { appendRichText, el } from "./text.js";

/* global __WIDGET_CSS__ */
const CSS = __WIDGET_CSS__; // src/widget.css, minified by build.mjs
const MAX_ITEMS = 300; // history kept per conversation
const BURST_MS = 80; // bot events arriving this close together are rendered together
const TYPING_TIMEOUT_MS = 30000;
const STATUS_CLEAR_MS = 5000;
// The server's limit (clinic/channels/visitor_input.py, MAX_MESSAGE_CHARS), in characters as Python
// counts them (code points: an emoji is one). Longer messages are refused, never cut, and the
// input does not cut them either (maxLength would drop pasted words silently): a counter shows
// near the limit, and over it the visitor is asked to shorten the message before it is sent.
const MAX_MESSAGE_CHARS = 1000;
const COUNTER_FROM = 0.8; // show the counter from 80% of the limit
// A care coordinator's display name is typed by a person in the inbox: shown as text only, cut to
// this many characters so a long one cannot push the message off screen or swamp the announcement.
const MAX_NAME_CHARS = 40;
// Live chat brings messages nobody in this tab asked for, which every open tab receives (they are
// all in the conversation's room). One tab, the "leader", records them; the others follow its
// saved history. The leader refreshes its claim every LEADER_BEAT_MS; a claim older than
// LEADER_STALE_MS (a tab that crashed, or one throttled in the background) can be taken over.
const LEADER_BEAT_MS = 10000;
const LEADER_STALE_MS = 30000;
const LIVE_STATES = ["waiting", "joined", "ended"];
const SUBTITLE = "Information, not medical advice";
const PLACEHOLDER = "Type your question…";

function charCount(text) {
  return Array.from(text).length;
}

function button(className, label, ...children) {
  const node = el("button", className);
  node.type = "button";
  if (label) node.setAttribute("aria-label", label);
  children.forEach((child) => node.append(child));
  return node;
}

function cleanReplies(list) {
  if (!Array.isArray(list)) return undefined;
  const replies = list
    .filter((reply) => reply && reply.title != null && reply.payload != null)
    .map((reply) => ({ title: String(reply.title), payload: String(reply.payload) }));
  return replies.length ? replies : undefined;
}

/** A display name fit to show: no control or bidi-override characters, one line, capped. */
function cleanName(value) {
  if (typeof value !== "string") return "";
  // eslint-disable-next-line no-control-regex
  const text = value.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, " ");
  const name = text.replace(/\s+/g, " ").trim();
  const chars = Array.from(name);
  return chars.length > MAX_NAME_CHARS ? chars.slice(0, MAX_NAME_CHARS - 1).join("").trim() + "…" : name;
}

/** A live chat message's time on the server (`at`): on reconnecting, the widget asks for what came
 * after the latest one it has (sessionRequest), so nothing said while it was offline is lost. */
function keepTime(item, payload) {
  if (typeof payload.at === "number" && Number.isFinite(payload.at)) item.at = Math.max(payload.at, item.at || 0);
}

/** "Casey (care coordinator)", or the bare role when the name is missing. */
function coordinatorTitle(name) {
  return name ? name + " (care coordinator)" : "Care coordinator";
}

/** The live-chat mark of a status line, from a `live_chat` payload (fields checked, names cleaned). */
function liveMark(payload) {
  const mark = { state: payload.state };
  if (Number.isInteger(payload.position) && payload.position > 0) mark.position = payload.position;
  const name = cleanName(payload.coordinator);
  if (name) mark.coordinator = name;
  return mark;
}

/** Accessible names for a rating scale ("3 of 5") when every button is a bare number. */
function scaleLabels(replies) {
  if (replies.length < 3 || !replies.every((reply) => /^\d{1,2}$/.test(reply.title.trim()))) return null;
  const top = Math.max(...replies.map((reply) => Number(reply.title)));
  return replies.map((reply) => reply.title.trim() + " of " + top);
}

function formatExpected(value) {
  if (value == null || value === "") return "";
  const text = String(value);
  // An ISO timestamp is shown in the visitor's local time; anything else is already prose.
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const date = new Date(text);
    if (!Number.isNaN(date.getTime())) {
      return "by " + date.toLocaleString(undefined, { weekday: "long", hour: "numeric", minute: "2-digit" });
    }
  }
  return text;
}

class ChatWidget {
  constructor(config) {
    this.config = config;
    this.prefix = "clinic-chat:" + config.server;
    this.sessionKey = this.prefix + ":session";
    this.openKey = this.prefix + ":open";
    this.leaderKey = this.prefix + ":leader";
    this.tabId = Math.random().toString(36).slice(2) + Date.now().toString(36);
    this.leaderTimer = null;
    this.sessionId = storage.getJSON(this.sessionKey, null);
    this.items = this.loadItems();
    this.nodes = new Map();
    this.socket = null;
    this.ready = false; // connected and session confirmed
    this.pendingRestart = false;
    this.wasOffline = false;
    this.burst = [];
    this.burstTimer = null;
    this.typingTimer = null;
    this.statusTimer = null;
    this.offlineTimer = null;
    this.rendered = false;
    this.lastLive = null; // the live-chat state shown, to change the banner only when it changes
    this.build();
    window.addEventListener("storage", (event) => this.onStorage(event));
    // Hand the recording over to another open tab at once, rather than after LEADER_STALE_MS.
    window.addEventListener("pagehide", () => {
      if (this.isLeader()) storage.remove(this.leaderKey);
    });
    if (storage.getSession(this.openKey) === "1") this.open({ focus: false });
    else if (this.items.some((item) => item.t === "user" && item.pending)) this.connect(); // queued on another page
  }

  // ------------------------------------------------------------------ persistence

  historyKey(id = this.sessionId) {
    return this.prefix + ":history:" + (id || "new");
  }

  loadItems(id = this.sessionId) {
    const items = storage.getJSON(this.historyKey(id), []);
    return Array.isArray(items) ? items.filter((item) => item && typeof item === "object") : [];
  }

  save() {
    if (this.items.length > MAX_ITEMS) this.items = this.items.slice(-MAX_ITEMS);
    storage.setJSON(this.historyKey(), this.items);
  }

  // ------------------------------------------------------------------ which tab records

  isLeader() {
    const claim = storage.getJSON(this.leaderKey, null);
    return Boolean(claim) && claim.id === this.tabId;
  }

  leaderGone() {
    const claim = storage.getJSON(this.leaderKey, null);
    return !claim || typeof claim.at !== "number" || Date.now() - claim.at > LEADER_STALE_MS;
  }

  /** This tab records the bot's messages from now on (it sent the last message, or nobody does). */
  lead() {
    storage.setJSON(this.leaderKey, { id: this.tabId, at: Date.now() });
  }

  /** Keeps this tab's claim fresh while it is connected (a tab that lost the connection misses
   * messages, so its claim lapses), or takes over a claim left behind; from the first connection. */
  watchLeader() {
    if (this.leaderTimer) return;
    if (this.leaderGone()) this.lead();
    this.leaderTimer = setInterval(() => {
      if (this.ready && (this.isLeader() || this.leaderGone())) this.lead();
    }, LEADER_BEAT_MS);
  }

  onStorage(event) {
    // Another tab of the same site continued or restarted the conversation.
    if (event.key === this.leaderKey) {
      // The recording tab was closed: a connected tab takes over (the last to write wins).
      if (event.newValue == null && this.ready) this.lead();
      return;
    }
    let value;
    try {
      value = event.newValue == null ? null : JSON.parse(event.newValue);
    } catch (_) {
      return;
    }
    if (event.key === this.sessionKey) {
      if (value === this.sessionId) return;
      // A null id: the other tab pressed "Start over"; its new id follows in a moment.
      this.sessionId = typeof value === "string" ? value : null;
      this.ready = false;
      this.items = this.loadItems();
      if (this.rendered) this.renderAll();
      if (this.sessionId && this.socket && this.socket.connected) {
        this.socket.emit("session_request", this.sessionRequest());
      }
    } else if (event.key === this.historyKey() && Array.isArray(value)) {
      // The other tab is the one recording: it saves the bot's messages (this tab, in the
      // same session room, receives them too, and drops them: see flushBurst).
      this.items = value;
      if (this.rendered) this.renderAll();
    }
  }

  // ------------------------------------------------------------------ DOM

  build() {
    const { config } = this;
    this.host = document.createElement("div");
    this.host.id = "clinic-chat-widget";
    const palette = accentPalette(config.accent, DEFAULTS.accent);
    this.host.style.setProperty("--cw-accent", palette.accent);
    this.host.style.setProperty("--cw-on-accent", palette.onAccent);
    this.host.style.setProperty("--cw-ink", palette.ink);
    this.host.style.setProperty("--cw-soft", palette.soft);
    const root = this.host.attachShadow({ mode: "open" });
    this.root = root;
    if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS); // constructable stylesheets also work under a strict CSP
      root.adoptedStyleSheets = [sheet];
    } else {
      root.append(el("style", null, CSS));
    }

    const frame = el("aside", "cw " + config.position);
    frame.setAttribute("aria-label", "Chat with the " + config.title);

    this.launcher = button("launcher", null, icon("chat", 22, "icon-chat"), icon("down", 22, "icon-close"));
    this.launcher.append(el("span", "launcher-text", "Chat with us"));
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-controls", "cw-panel");
    this.launcher.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));

    const panel = el("div", "panel");
    panel.id = "cw-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", "cw-title");
    panel.setAttribute("aria-describedby", "cw-subtitle");
    this.panel = panel;

    const header = el("div", "header");
    const avatar = el("div", "avatar");
    avatar.append(icon("plus", 22));
    const titles = el("div", "titles");
    const title = el("h2", "title", config.title);
    title.id = "cw-title";
    const subtitle = el("p", "subtitle", SUBTITLE);
    subtitle.id = "cw-subtitle";
    this.subtitle = subtitle;
    titles.append(title, subtitle);
    const restart = button("header-btn restart", "Start over", icon("restart", 20));
    restart.title = "Start over";
    restart.addEventListener("click", () => this.startOver());
    const close = button("header-btn close", "Close chat", icon("close", 20));
    close.title = "Close chat";
    close.addEventListener("click", () => this.close());
    const actions = el("div", "header-actions");
    actions.append(restart, close);
    header.append(avatar, titles, actions);

    // The live chat's state (docs/live-chat.md): waiting in line, or who is in the chat. Polite: the
    // log already announces the status line that changed it.
    this.live = el("div", "live");
    this.live.hidden = true;
    this.live.setAttribute("role", "status");
    this.live.setAttribute("aria-live", "polite");
    this.live.setAttribute("aria-label", "Live chat");
    this.liveText = el("p", "live-text");
    this.live.append(this.liveText);

    this.status = el("div", "status");
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");

    this.log = el("div", "log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.setAttribute("aria-relevant", "additions");
    this.log.setAttribute("aria-label", "Conversation");
    this.log.tabIndex = 0;

    this.typing = el("div", "typing");
    this.typing.setAttribute("aria-hidden", "true");
    this.typing.append(el("span"), el("span"), el("span"));

    const form = el("form", "composer");
    form.noValidate = true;
    const label = el("label", "sr-only", "Type your question");
    label.htmlFor = "cw-input";
    this.input = el("input", "input");
    this.input.id = "cw-input";
    this.input.type = "text";
    this.input.autocomplete = "off";
    this.input.placeholder = PLACEHOLDER;
    this.input.setAttribute("enterkeyhint", "send");
    this.counter = el("p", "counter");
    this.counter.id = "cw-counter";
    this.counter.setAttribute("aria-live", "polite");
    this.input.setAttribute("aria-describedby", this.counter.id);
    this.input.addEventListener("input", () => this.updateCounter());
    const send = el("button", "send");
    send.type = "submit";
    send.setAttribute("aria-label", "Send");
    send.append(icon("send", 20));
    form.append(label, this.input, send);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value;
      if (!text.trim()) return;
      if (this.updateCounter()) {
        this.input.focus();
        return; // too long: kept in the input for the visitor to shorten, not sent, not cut
      }
      this.input.value = "";
      this.updateCounter();
      this.send(text);
    });

    const footer = el("p", "footer");
    appendRichText(footer, "In an emergency, call 911. In crisis, call or text 988.", []);

    panel.append(header, this.live, this.status, this.log, form, this.counter, footer);
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        this.close();
      }
    });
    this.launcher.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.isOpen()) this.close();
    });

    frame.append(this.launcher, panel);
    root.append(frame);
    document.body.appendChild(this.host);
  }

  isOpen() {
    return !this.panel.hidden;
  }

  /** Shows how many characters are left near the limit; true when the message is over it. */
  updateCounter() {
    const count = charCount(this.input.value);
    const over = count > MAX_MESSAGE_CHARS;
    const limit = MAX_MESSAGE_CHARS.toLocaleString("en-US");
    let text = "";
    if (over) {
      text = `${count.toLocaleString("en-US")} / ${limit} characters: too long. Please shorten your message or send it in parts.`;
    } else if (count >= MAX_MESSAGE_CHARS * COUNTER_FROM) {
      text = `${count.toLocaleString("en-US")} / ${limit} characters`;
    }
    if (this.counter.textContent !== text) this.counter.textContent = text;
    this.counter.classList.toggle("over", over);
    if (over) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
    return over;
  }

  open({ focus = true } = {}) {
    if (!this.rendered) this.renderAll();
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.classList.add("is-open");
    storage.setSession(this.openKey, "1");
    this.connect();
    this.scrollToEnd();
    if (focus) this.input.focus();
  }

  close() {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.classList.remove("is-open");
    storage.setSession(this.openKey, null);
    this.launcher.focus();
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  setStatus(text, kind = "warn", clearAfter = 0) {
    clearTimeout(this.statusTimer);
    this.status.className = "status" + (kind === "ok" ? " ok" : "");
    if (this.status.textContent !== text) this.status.textContent = text;
    if (clearAfter) this.statusTimer = setTimeout(() => (this.status.textContent = ""), clearAfter);
  }

  showTyping() {
    this.log.append(this.typing);
    this.scrollToEnd();
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_TIMEOUT_MS);
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    this.typing.remove();
  }

  // ------------------------------------------------------------------ rendering

  renderAll() {
    this.rendered = true;
    this.nodes.clear();
    const children = [];
    if (this.config.greeting) {
      const greeting = el("div", "msg bot greeting");
      const bubble = el("div", "bubble");
      bubble.append(el("span", "sr-only", "Assistant: "));
      appendRichText(bubble, this.config.greeting, this.config.allowedLinkHosts);
      greeting.append(bubble);
      children.push(greeting);
    }
    for (const item of this.items) {
      const node = this.renderItem(item, false);
      this.nodes.set(item, node);
      children.push(node);
    }
    this.log.replaceChildren(...children);
    this.renderLive();
    this.scrollToEnd();
  }

  /** The session request: the conversation, and the time of the latest live chat message this
   * history has, so the server sends again what this tab missed while offline (replay.py). */
  sessionRequest() {
    const times = this.items.map((item) => item.at).filter((at) => typeof at === "number");
    return times.length ? { session_id: this.sessionId, live_since: Math.max(...times) } : { session_id: this.sessionId };
  }

  /** The live chat's state now: the mark of the latest status line, unless that one ended it. */
  liveState() {
    for (let i = this.items.length - 1; i >= 0; i -= 1) {
      const mark = this.items[i].live;
      if (mark && typeof mark === "object") return mark.state === "joined" || mark.state === "waiting" ? mark : null;
    }
    return null;
  }

  /** Banner, subtitle and placeholder for the state in the history (so a reload or a tab agrees). */
  renderLive() {
    const mark = this.liveState();
    const key = mark ? [mark.state, mark.position, mark.coordinator].join("|") : "";
    if (key === this.lastLive) return;
    this.lastLive = key;
    let text = "";
    if (mark && mark.state === "joined") {
      text = (mark.coordinator ? coordinatorTitle(mark.coordinator) : "A care coordinator") + " is in the chat";
    } else if (mark) {
      text = "Waiting for a coordinator" + (mark.position ? " · You're number " + mark.position + " in line" : "");
    }
    const joined = Boolean(mark) && mark.state === "joined";
    this.live.hidden = !mark;
    this.live.className = "live" + (mark ? " " + mark.state : "");
    this.liveText.replaceChildren();
    if (joined) {
      const initial = el("span", "initial", Array.from(mark.coordinator || "?")[0].toUpperCase());
      initial.setAttribute("aria-hidden", "true");
      this.liveText.append(initial);
    } else if (mark) {
      const dot = el("span", "dot");
      dot.setAttribute("aria-hidden", "true");
      this.liveText.append(dot);
    }
    this.liveText.append(document.createTextNode(text));
    // A person may be reading: the subtitle (the panel's description) and the prompt say so.
    this.subtitle.textContent = joined ? "Chatting with a care coordinator" : SUBTITLE;
    this.input.placeholder = joined ? "Type your message…" : PLACEHOLDER;
    this.panel.classList.toggle("is-live", joined);
  }

  append(item, fresh) {
    const node = this.renderItem(item, fresh);
    this.nodes.set(item, node);
    if (this.typing.parentNode === this.log) this.log.insertBefore(node, this.typing);
    else this.log.append(node);
  }

  rerender(item, fresh = false) {
    const old = this.nodes.get(item);
    if (!old) return;
    const node = this.renderItem(item, fresh);
    this.nodes.set(item, node);
    old.replaceWith(node);
  }

  renderItem(item, fresh) {
    if (item.t === "user") return this.renderUser(item);
    if (item.t === "handoff") return this.renderHandoff(item);
    if (item.live) return this.renderLiveLine(item);
    return this.renderBot(item, fresh);
  }

  renderLiveLine(item) {
    // "Casey joined the chat", "You're back in line": what happened, not something said.
    const node = el("div", "msg event");
    const line = el("p", "event-text");
    appendRichText(line, item.text, this.config.allowedLinkHosts);
    node.append(line);
    return node;
  }

  /** "Casey, care coordinator" with an initial, above a coordinator's message (hidden from screen
   * readers, which hear the bubble's own "Casey (care coordinator):"). */
  renderSender(name) {
    const sender = el("p", "sender");
    sender.setAttribute("aria-hidden", "true");
    sender.append(el("span", "initial", name ? Array.from(name)[0].toUpperCase() : "C"));
    sender.append(el("span", "sender-name", name ? name + ", care coordinator" : "Care coordinator"));
    return sender;
  }

  renderUser(item) {
    const node = el("div", "msg user");
    const bubble = el("div", "bubble");
    bubble.append(el("span", "sr-only", "You: "), document.createTextNode(String(item.text)));
    node.append(bubble);
    if (item.pending) node.append(el("p", "pending-note", "Not sent yet: it will be sent when the connection is back."));
    return node;
  }

  renderBot(item, fresh) {
    const classes = ["msg", "bot"];
    if (item.kind === "alert") classes.push("alert", item.level === "crisis" ? "crisis" : "emergency");
    if (item.kind === "notice") classes.push("notice");
    if (item.noAnswer) classes.push("no-answer");
    const fromCoordinator = typeof item.coordinator === "string";
    if (fromCoordinator) classes.push("coordinator");
    const node = el("div", classes.join(" "));
    if (fromCoordinator) node.append(this.renderSender(item.coordinator));
    const bubble = el("div", "bubble");
    if (item.kind === "alert") {
      // Announced at once when it arrives; not again when the history is restored.
      if (fresh) node.setAttribute("role", "alert");
      const crisis = item.level === "crisis";
      const label = el("p", "label");
      label.append(icon(crisis ? "heart" : "alert", 16), el("span", null, crisis ? "Help is available now" : "Medical emergency"));
      bubble.append(label);
    } else if (item.kind === "notice") {
      const label = el("p", "label");
      label.append(icon("info", 16), el("span", null, "Please note"));
      bubble.append(label);
    }
    // A coordinator's text is typed by a person: text nodes only, as every message (text.js).
    const speaker = fromCoordinator ? coordinatorTitle(item.coordinator) : "Assistant";
    bubble.append(el("span", "sr-only", speaker + ": "));
    appendRichText(bubble, item.text, this.config.allowedLinkHosts);
    node.append(bubble);

    if (item.source && Array.isArray(item.source.quotes) && item.source.quotes.length) {
      const details = el("details", "source");
      const summary = el("summary");
      summary.append(icon("right", 16, "chev"), el("span", "source-label", "Source"));
      if (item.source.title) summary.append(el("span", "source-title", item.source.title));
      const body = el("div", "source-body");
      body.append(el("p", "source-intro", "Quoted from the clinic's article:"));
      for (const quote of item.source.quotes) body.append(el("blockquote", null, "“" + String(quote) + "”"));
      details.append(summary, body);
      node.append(details);
    }

    if (item.replies && !item.answered) {
      // A row of bare numbers is a rating scale: one compact row, each named "3 of 5".
      const labels = scaleLabels(item.replies);
      const group = el("div", labels ? "replies scale" : "replies");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      item.replies.forEach((reply, index) => {
        const choice = button("reply", labels && labels[index], document.createTextNode(reply.title));
        choice.addEventListener("click", () => {
          this.send(reply.payload, reply.title);
          this.input.focus();
        });
        group.append(choice);
      });
      node.append(group);
    }
    return node;
  }

  renderHandoff(item) {
    const node = el("div", "msg handoff");
    const card = el("div", "card");
    card.setAttribute("role", "group");
    card.setAttribute("aria-label", "Request confirmation");
    const label = el("p", "label");
    label.append(icon("check", 16), el("span", null, "Request received"));
    const reference = el("p");
    reference.append(document.createTextNode("Your reference: "), el("span", "reference", String(item.reference || "")));
    card.append(label, reference);
    const expected = formatExpected(item.expected);
    if (expected) card.append(el("p", null, "A care coordinator will contact you " + expected.replace(/\.$/, "") + "."));
    node.append(card);
    return node;
  }

  // ------------------------------------------------------------------ bot events

  onBotEvent(payload) {
    if (!payload || typeof payload !== "object") return;
    this.burst.push(payload);
    clearTimeout(this.burstTimer);
    this.burstTimer = setTimeout(() => this.flushBurst(), BURST_MS);
  }

  lastBotText() {
    // The message a custom payload refers to: the last bot text received, even if the
    // visitor has sent something since (a quick click can land between the two events).
    if (this.lastBot && this.items.includes(this.lastBot)) return this.lastBot;
    for (let i = this.items.length - 1; i >= 0; i -= 1) {
      if (this.items[i].t === "bot") return this.items[i];
    }
    return null;
  }

  flushBurst() {
    const events = this.burst;
    this.burst = [];
    // Another tab records this conversation: it saves these events, and this tab shows them
    // from its saved history (onStorage); recording them here too would add them twice.
    if (!this.isLeader()) {
      if (!this.leaderGone()) return;
      this.lead();
    }
    if (!this.rendered) this.renderAll();
    const added = [];
    const changed = new Set();
    let previousText = null;
    // A text, or a custom payload: its kinds and fields are in clinic/reply_contract.schema.json
    // (docs/reply-contract.md); a kind not there is ignored.
    for (const payload of events) {
      if (typeof payload.text === "string" && payload.text.trim()) {
        const text = payload.text.trim();
        const replies = cleanReplies(payload.quick_replies || payload.buttons);
        // Rasa sends the session-start notice twice when a new conversation begins with
        // /restart: drop a text that repeats the one just before it in the same burst.
        if (previousText && previousText.text === text && !replies) continue;
        const item = { t: "bot", text };
        if (replies) item.replies = replies;
        this.items.push(item);
        added.push(item);
        previousText = item;
        this.lastBot = item;
      } else if (payload.kind === "handoff_confirmed") {
        const item = { t: "handoff", reference: String(payload.reference || ""), expected: payload.expected_contact };
        this.items.push(item);
        added.push(item);
      } else if (typeof payload.kind === "string") {
        const target = this.lastBotText();
        if (!target) continue;
        if (payload.kind === "source") {
          const quotes = Array.isArray(payload.quotes) ? payload.quotes.map(String) : [];
          target.source = { topic: String(payload.topic || ""), title: String(payload.title || ""), quotes };
        } else if (payload.kind === "alert") {
          target.kind = "alert";
          target.level = payload.level === "crisis" ? "crisis" : "emergency";
        } else if (payload.kind === "notice") {
          target.kind = "notice";
        } else if (payload.kind === "no_answer") {
          target.noAnswer = true;
        } else if (payload.kind === "coordinator") {
          // Written by a care coordinator (docs/live-chat.md); the name is untrusted text.
          target.coordinator = cleanName(payload.name);
          keepTime(target, payload);
        } else if (payload.kind === "live_chat") {
          // A status line ("Casey joined the chat") that changes the live chat's state.
          if (!LIVE_STATES.includes(payload.state)) continue;
          target.live = liveMark(payload);
          keepTime(target, payload);
        } else {
          continue;
        }
        if (!added.includes(target)) changed.add(target);
      }
    }
    if (!added.length && !changed.size) return;
    this.hideTyping();
    changed.forEach((item) => this.rerender(item, true));
    added.forEach((item) => this.append(item, true));
    this.save();
    this.renderLive();
    this.scrollToEnd();
  }

  // ------------------------------------------------------------------ sending

  send(message, shown) {
    const text = String(message).trim();
    if (!text) return;
    for (const item of this.items) {
      if (item.replies && !item.answered) {
        item.answered = true;
        this.rerender(item);
      }
    }
    this.lead(); // the tab the visitor writes in records the replies
    const item = { t: "user", text: shown || text, pending: true };
    if (shown && shown !== text) item.payload = text;
    this.items.push(item);
    if (!this.rendered) this.renderAll();
    else this.append(item, true);
    this.save();
    this.scrollToEnd();
    this.connect();
    this.flushQueue();
  }

  flushQueue() {
    const pending = this.items.filter((item) => item.t === "user" && item.pending);
    if (!pending.length) return;
    if (!this.ready) {
      if (this.wasOffline) {
        this.setStatus("You're offline. Your message will be sent as soon as the connection is back.");
      }
      return;
    }
    this.lead(); // (messages queued on another page are sent, and answered, here)
    for (const item of pending) {
      this.socket.emit("user_uttered", { message: item.payload || item.text, session_id: this.sessionId });
      item.pending = false;
      this.rerender(item);
    }
    this.save();
    // While a coordinator is in the chat the assistant stays silent, and a person takes their
    // time: no typing dots that would promise an instant answer.
    const mark = this.liveState();
    if (!mark || mark.state !== "joined") this.showTyping();
  }

  startOver() {
    storage.remove(this.historyKey());
    storage.remove(this.historyKey(null));
    storage.remove(this.sessionKey);
    this.sessionId = null;
    this.items = [];
    this.burst = [];
    this.pendingRestart = true;
    this.lead();
    this.ready = false;
    this.hideTyping();
    this.renderAll();
    this.setStatus("Started a new conversation.", "ok", STATUS_CLEAR_MS);
    if (this.socket) {
      // A fresh socket: the old conversation's room is left behind.
      this.socket.disconnect();
      this.socket.connect();
    } else {
      this.connect();
    }
    this.input.focus();
  }

  // ------------------------------------------------------------------ connection

  connect() {
    if (this.socket) return;
    this.watchLeader();
    const socket = io(this.config.server, {
      path: this.config.socketPath,
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 8000,
      randomizationFactor: 0.5,
      timeout: 10000,
    });
    this.socket = socket;
    // Only say "offline" if connecting takes a while (or fails outright).
    this.offlineTimer = setTimeout(() => {
      if (!this.ready) this.goOffline();
    }, 4000);

    socket.on("connect", () => {
      this.ready = false;
      socket.emit("session_request", this.sessionRequest());
    });
    socket.on("session_confirm", (data) => this.onSessionConfirm(data));
    socket.on("bot_uttered", (payload) => this.onBotEvent(payload));
    socket.on("connect_error", () => this.goOffline());
    socket.on("disconnect", (reason) => {
      this.ready = false;
      this.hideTyping();
      if (reason === "io client disconnect") return; // start over / page unload
      this.goOffline();
      // The server ended this socket on purpose: socket.io won't retry by itself.
      if (reason === "io server disconnect") setTimeout(() => socket.connect(), 2000);
    });
  }

  goOffline() {
    this.wasOffline = true;
    this.hideTyping();
    const queued = this.items.some((item) => item.t === "user" && item.pending);
    this.setStatus(
      queued
        ? "You're offline. Your message will be sent as soon as the connection is back."
        : "We can't reach the assistant right now. Trying to reconnect… You can keep typing: messages will be sent when we're back.",
    );
  }

  onSessionConfirm(data) {
    const id = typeof data === "string" ? data : data && data.session_id;
    if (!id) return;
    clearTimeout(this.offlineTimer);
    if (id !== this.sessionId) {
      const carried = this.items; // messages typed before the first connection
      storage.remove(this.historyKey(null));
      this.sessionId = id;
      storage.setJSON(this.sessionKey, id);
      this.items = carried;
      this.save();
    }
    this.ready = true;
    if (this.wasOffline) {
      this.wasOffline = false;
      const queued = this.items.some((item) => item.t === "user" && item.pending);
      this.setStatus(queued ? "Back online. Sending your message…" : "Back online.", "ok", STATUS_CLEAR_MS);
    } else if (!this.pendingRestart) {
      this.setStatus("", "ok");
    }
    if (this.pendingRestart) {
      this.pendingRestart = false;
      this.socket.emit("user_uttered", { message: "/restart", session_id: id });
      this.showTyping();
    }
    this.flushQueue();
  }
}

function start(script) {
  if (window.__clinicChatWidget) return;
  const config = readConfig(script);
  const widget = new ChatWidget(config);
  window.__clinicChatWidget = widget;
  window.ClinicChat = {
    open: () => widget.open(),
    close: () => widget.close(),
  };
}

const script = findScript();
const boot = () => start(script);
if (document.body) boot();
else document.addEventListener("DOMContentLoaded", boot, { once: true });
