// localStorage with a memory fallback (private browsing, storage disabled, quota full).

const memory = new Map();

function backend() {
  try {
    const store = window.localStorage;
    const probe = "__clinic_chat_probe__";
    store.setItem(probe, "1");
    store.removeItem(probe);
    return store;
  } catch (_) {
    return null;
  }
}

const local = backend();

export function getJSON(key, fallback) {
  try {
    const raw = local ? local.getItem(key) : memory.get(key);
    return raw == null ? fallback : JSON.parse(raw);
  } catch (_) {
    return fallback;
  }
}

export function setJSON(key, value) {
  const raw = JSON.stringify(value);
  memory.set(key, raw);
  if (!local) return;
  try {
    local.setItem(key, raw);
  } catch (_) {
    // Quota exceeded: the conversation still works, it just won't survive a reload.
  }
}

export function remove(key) {
  memory.delete(key);
  if (!local) return;
  try {
    local.removeItem(key);
  } catch (_) {
    /* ignore */
  }
}

// Per-tab state (is the panel open?), so the chat stays open while the visitor browses.
export function getSession(key) {
  try {
    return window.sessionStorage.getItem(key);
  } catch (_) {
    return null;
  }
}

export function setSession(key, value) {
  try {
    if (value == null) window.sessionStorage.removeItem(key);
    else window.sessionStorage.setItem(key, value);
  } catch (_) {
    /* ignore */
  }
}
