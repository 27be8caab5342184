// All of the widget's CSS. It lives inside the Shadow DOM: the host page's styles cannot
// reach it and it cannot reach the host page. Colours: text >= 4.5:1 everywhere.

export const CSS = `
:host {
  all: initial;
  --cw-accent: #0e6170;
  --cw-on-accent: #ffffff;
  --cw-ink: #0e6170;
  --cw-soft: #e3eef0;
  --cw-text: #1b2a33;
  --cw-muted: #4f5d66;
  --cw-bg: #ffffff;
  --cw-surface: #f6f8f9;
  --cw-bubble: #eef3f5;
  --cw-border: #d5dee2;
  --cw-focus: #1a5fb4;
  --cw-radius: 16px;
  --cw-shadow: 0 12px 40px rgba(16, 42, 54, 0.18), 0 2px 8px rgba(16, 42, 54, 0.08);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 16px;
  line-height: 1.5;
  color: var(--cw-text);
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.sr-only {
  position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; border: 0;
}
button, input { font: inherit; color: inherit; }
button { cursor: pointer; }
:focus { outline: none; }
:focus-visible { outline: 3px solid var(--cw-focus); outline-offset: 2px; }
a { color: var(--cw-ink); text-decoration: underline; text-underline-offset: 2px; }
a:hover { text-decoration-thickness: 2px; }
svg { display: block; flex: none; }

/* ---------------------------------------------------------------- launcher */
.launcher {
  position: fixed; bottom: 20px; right: 20px; z-index: 2147483000;
  display: inline-flex; align-items: center; gap: 10px;
  min-height: 52px; padding: 0 22px 0 18px; border: 0; border-radius: 999px;
  background: var(--cw-accent); color: var(--cw-on-accent);
  font-size: 16px; font-weight: 600; letter-spacing: 0.01em;
  box-shadow: var(--cw-shadow);
  transition: transform 0.15s ease, box-shadow 0.15s ease;
}
.launcher:hover { transform: translateY(-1px); box-shadow: 0 16px 44px rgba(16, 42, 54, 0.24); }
.launcher:focus-visible { outline-offset: 3px; }
.launcher .icon-close { display: none; }
.launcher[aria-expanded="true"] .icon-chat { display: none; }
.launcher[aria-expanded="true"] .icon-close { display: block; }
.left .launcher { right: auto; left: 20px; }

/* ---------------------------------------------------------------- panel */
.panel {
  position: fixed; bottom: 88px; right: 20px; z-index: 2147483001;
  display: flex; flex-direction: column;
  width: 384px; max-width: calc(100vw - 32px);
  height: 640px; max-height: calc(100vh - 112px);
  background: var(--cw-bg); border: 1px solid var(--cw-border); border-radius: var(--cw-radius);
  box-shadow: var(--cw-shadow); overflow: hidden;
  animation: cw-in 0.18s ease-out;
}
.left .panel { right: auto; left: 20px; }
@keyframes cw-in { from { opacity: 0; transform: translateY(12px) scale(0.98); } to { opacity: 1; transform: none; } }

.header {
  display: flex; align-items: center; gap: 12px; padding: 14px 10px 14px 16px;
  background: var(--cw-accent); color: var(--cw-on-accent);
}
.avatar {
  display: grid; place-items: center; width: 38px; height: 38px; border-radius: 50%;
  background: var(--cw-on-accent); color: var(--cw-accent); flex: none;
}
.titles { flex: 1; min-width: 0; }
.title { margin: 0; font-size: 17px; font-weight: 650; line-height: 1.3; }
.subtitle { margin: 2px 0 0; font-size: 13px; line-height: 1.35; }
.header-btn {
  display: inline-flex; align-items: center; justify-content: center; gap: 6px;
  min-width: 40px; min-height: 40px; padding: 0 10px; border: 0; border-radius: 10px;
  background: transparent; color: var(--cw-on-accent); font-size: 14px; font-weight: 600;
}
.header-btn:hover { background: rgba(255, 255, 255, 0.16); }
.header-btn:focus-visible { outline-color: var(--cw-on-accent); outline-offset: -3px; }

.status {
  padding: 10px 16px; font-size: 14px; line-height: 1.4;
  background: #fff7e0; color: #5c4200; border-bottom: 1px solid #f0dca0;
}
.status.ok { background: #e8f5ec; color: #1d5631; border-bottom-color: #bcdcc6; }
.status:empty { display: none; }

/* ---------------------------------------------------------------- messages */
.log {
  flex: 1; min-height: 0; overflow-y: auto; overflow-x: hidden; overscroll-behavior: contain;
  padding: 18px 14px 8px; background: var(--cw-surface);
  display: flex; flex-direction: column; gap: 10px;
}
.msg { display: flex; flex-direction: column; align-items: flex-start; max-width: 100%; }
.msg.user { align-items: flex-end; }
.bubble {
  max-width: 88%; padding: 10px 14px; border-radius: 14px;
  background: var(--cw-bg); border: 1px solid var(--cw-border);
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: normal;
}
.bot .bubble { border-bottom-left-radius: 4px; }
.user .bubble {
  background: var(--cw-accent); color: var(--cw-on-accent); border-color: transparent;
  border-bottom-right-radius: 4px;
}
.user .bubble a { color: inherit; }
.pending-note { margin: 4px 4px 0; font-size: 13px; color: var(--cw-muted); }
.greeting .bubble { background: var(--cw-soft); border-color: transparent; }

.notice .bubble {
  max-width: 100%; background: #eaf1f7; border: 1px solid #c9d9e8; border-left: 4px solid #3d6a8f;
  color: #1d3346; border-radius: 10px; font-size: 15px;
}
.label {
  display: flex; align-items: center; gap: 6px; margin: 0 0 4px;
  font-size: 13px; font-weight: 700; letter-spacing: 0.04em; text-transform: uppercase;
}
.notice .label { color: #2c5171; }

.alert .bubble {
  max-width: 100%; border-radius: 10px; border: 1px solid #e8b4b0; border-left: 5px solid #b42318;
  background: #fdeeee; color: #4a0f0b; font-weight: 500;
}
.alert .label { color: #9b1c1c; }
.alert a.tel {
  display: inline-block; padding: 0 6px; margin: 0 1px; border-radius: 6px;
  background: #b42318; color: #ffffff; font-weight: 700; text-decoration: none;
}
.alert a.tel:hover { background: #8f1b12; }
.alert.crisis .bubble { border-color: #d6c1ea; border-left-color: #5b2a86; background: #f5effb; color: #2c1342; }
.alert.crisis .label { color: #5b2a86; }
.alert.crisis a.tel { background: #5b2a86; }
.alert.crisis a.tel:hover { background: #47206a; }

/* source disclosure */
.source {
  max-width: 88%; margin-top: 6px; border: 1px solid var(--cw-border); border-radius: 10px;
  background: var(--cw-bg); font-size: 14px;
}
.source summary {
  display: flex; align-items: center; gap: 6px; padding: 6px 10px; border-radius: 10px;
  color: var(--cw-ink); font-weight: 600; cursor: pointer; list-style: none;
}
.source summary::-webkit-details-marker { display: none; }
.source summary .chev { transition: transform 0.15s ease; }
.source[open] summary .chev { transform: rotate(90deg); }
.source-body { padding: 2px 12px 10px; color: var(--cw-text); }
.source-intro { margin: 0 0 6px; color: var(--cw-muted); font-size: 13px; }
.source blockquote {
  margin: 6px 0 0; padding: 2px 0 2px 10px; border-left: 3px solid var(--cw-accent);
  font-style: italic; overflow-wrap: anywhere;
}

/* quick replies */
.replies { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; max-width: 100%; }
.reply {
  min-height: 40px; padding: 7px 14px; border-radius: 999px;
  border: 1.5px solid var(--cw-ink); background: var(--cw-bg); color: var(--cw-ink);
  font-size: 15px; font-weight: 600; line-height: 1.3; text-align: left;
}
.reply:hover { background: var(--cw-soft); }

/* handoff confirmation */
.card {
  width: 100%; max-width: 100%; padding: 14px 16px; border-radius: 12px;
  background: #ecf6ef; border: 1px solid #b9dcc4; color: #173d26;
}
.card .label { color: #1d5631; }
.card p { margin: 4px 0 0; }
.reference {
  display: inline-block; margin-top: 2px; padding: 2px 8px; border-radius: 6px;
  background: #ffffff; border: 1px solid #b9dcc4; color: #173d26;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 16px; font-weight: 700;
  letter-spacing: 0.04em;
}

/* typing indicator */
.typing {
  display: inline-flex; align-items: center; gap: 5px; align-self: flex-start;
  padding: 12px 14px; border-radius: 14px; border-bottom-left-radius: 4px;
  background: var(--cw-bg); border: 1px solid var(--cw-border);
}
.typing span { width: 7px; height: 7px; border-radius: 50%; background: #6b7a83; animation: cw-dot 1.2s infinite ease-in-out; }
.typing span:nth-child(2) { animation-delay: 0.15s; }
.typing span:nth-child(3) { animation-delay: 0.3s; }
@keyframes cw-dot { 0%, 60%, 100% { opacity: 0.35; transform: none; } 30% { opacity: 1; transform: translateY(-3px); } }

/* ---------------------------------------------------------------- composer */
.composer {
  display: flex; align-items: flex-end; gap: 8px; padding: 10px 12px;
  border-top: 1px solid var(--cw-border); background: var(--cw-bg);
}
.input {
  flex: 1; min-width: 0; min-height: 44px; padding: 10px 14px;
  border: 1.5px solid #8a989f; border-radius: 12px; background: var(--cw-bg);
  font-size: 16px; line-height: 1.4;
}
.input::placeholder { color: #5b6770; opacity: 1; }
.input:focus-visible { border-color: var(--cw-focus); outline-offset: 0; outline-width: 2px; }
.send {
  display: grid; place-items: center; width: 44px; height: 44px; flex: none; border: 0; border-radius: 12px;
  background: var(--cw-accent); color: var(--cw-on-accent);
}
.footer {
  margin: 0; padding: 0 14px 10px; background: var(--cw-bg);
  font-size: 12.5px; line-height: 1.4; color: var(--cw-muted); text-align: center;
}
.footer a.tel { color: #9b1c1c; font-weight: 700; }

/* ---------------------------------------------------------------- small screens, zoom */
@media (max-width: 480px), (max-height: 560px) {
  .panel, .left .panel {
    top: 0; right: 0; bottom: 0; left: 0; width: 100%; max-width: none;
    height: 100%; max-height: none; border: 0; border-radius: 0;
  }
  .launcher { bottom: 14px; right: 14px; }
  .left .launcher { left: 14px; }
  .launcher.is-open { display: none; }
  .bubble, .source { max-width: 92%; }
}
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; scroll-behavior: auto !important; }
}
@media (forced-colors: active) {
  .bubble, .launcher, .send, .reply, .card, .source { border: 1px solid CanvasText; }
}
@media print { .launcher, .panel { display: none !important; } }
`;
