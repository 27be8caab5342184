// Turns message text into DOM nodes. Text is only ever inserted as text nodes: never HTML.
// Two things become links, built with DOM APIs:
//   * http(s) URLs whose host is in the allow-list (others stay plain text), and site paths
//     such as "/privacy" (resolved against the page, so the page's own host must be allowed);
//   * the emergency numbers 911 and 988, as tel: links (tappable on phones).

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+|(?:^|\s)\/[a-z][\w\-./?=&#%]*/gi;
const PHONE_RE = /(^|[^\w-])(911|988)(?![\w-])/g;
const TRAILING = /[.,;:!?)\]}'"]+$/;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function allowedUrl(raw, allowedHosts) {
  let url;
  try {
    url = new URL(raw, window.location.href);
  } catch (_) {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.username || url.password) return null;
  const host = url.host.toLowerCase();
  const hostname = url.hostname.toLowerCase();
  return allowedHosts.some((allowed) => allowed === host || allowed === hostname) ? url : null;
}

function appendPhones(parent, text) {
  let last = 0;
  PHONE_RE.lastIndex = 0;
  let match;
  while ((match = PHONE_RE.exec(text))) {
    const start = match.index + match[1].length;
    if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
    const link = el("a", "tel", match[2]);
    link.href = "tel:" + match[2];
    parent.appendChild(link);
    last = start + match[2].length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

/** Appends `text` to `parent` with safe links. */
export function appendRichText(parent, text, allowedHosts) {
  const value = String(text == null ? "" : text);
  let last = 0;
  URL_RE.lastIndex = 0;
  let match;
  while ((match = URL_RE.exec(value))) {
    let raw = match[0];
    if (/^\s/.test(raw)) {
      // A site path: the regexp also took the space before it.
      match = { index: match.index + 1, 0: raw.slice(1) };
      raw = match[0];
    }
    const trailing = raw.match(TRAILING);
    if (trailing) raw = raw.slice(0, -trailing[0].length);
    const url = allowedUrl(raw, allowedHosts);
    if (match.index > last) appendPhones(parent, value.slice(last, match.index));
    if (url) {
      const link = el("a", "link", raw);
      link.href = url.href;
      if (url.host !== window.location.host) {
        link.target = "_blank";
        link.rel = "noopener noreferrer";
      }
      parent.appendChild(link);
    } else {
      parent.appendChild(document.createTextNode(raw)); // not allowed: plain text
    }
    last = match.index + raw.length;
    URL_RE.lastIndex = last;
  }
  if (last < value.length) appendPhones(parent, value.slice(last));
  return parent;
}

export { el };
