// Reads the widget's settings from the <script> tag that loaded it.
//
//   <script src="/widget/widget.js" data-server="https://bot.example" defer
//           data-title="Clinic assistant" data-greeting="Hi! ..." data-accent="#0e6170"
//           data-position="right" data-allowed-link-hosts="clinic.example www.clinic.example">
//   </script>

export const DEFAULTS = {
  server: "http://localhost:5005",
  title: "Clinic assistant",
  greeting:
    "Hi! I can answer general questions about bone-marrow stem cell therapy from our article. " +
    "What would you like to know?",
  accent: "#0e6170",
  position: "right",
};

export function findScript() {
  const current = document.currentScript;
  if (current && current.dataset) return current;
  const tags = document.querySelectorAll("script[data-server]");
  return tags.length ? tags[tags.length - 1] : null;
}

function splitHosts(value) {
  return String(value)
    .split(/[\s,]+/)
    .map((host) => host.trim().toLowerCase())
    .filter(Boolean);
}

export function readConfig(script) {
  const data = (script && script.dataset) || {};
  const server = (data.server || DEFAULTS.server).trim();
  let serverUrl;
  try {
    serverUrl = new URL(server, window.location.href);
  } catch (_) {
    serverUrl = new URL(DEFAULTS.server);
  }
  // socket.io reads a path in the URL as a namespace: keep the origin, and put any path
  // prefix (a Rasa behind a reverse proxy at /bot) in front of /socket.io instead.
  const prefix = serverUrl.pathname.replace(/\/+$/, "");
  return {
    server: serverUrl.origin,
    socketPath: (data.socketPath || prefix + "/socket.io").replace(/\/{2,}/g, "/"),
    title: (data.title || DEFAULTS.title).trim(),
    greeting: data.greeting === undefined ? DEFAULTS.greeting : data.greeting.trim(),
    accent: (data.accent || DEFAULTS.accent).trim(),
    position: data.position === "left" ? "left" : "right",
    allowedLinkHosts:
      data.allowedLinkHosts === undefined
        ? [window.location.host.toLowerCase()]
        : splitHosts(data.allowedLinkHosts),
  };
}
