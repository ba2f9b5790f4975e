// Client of the tracker's versioned feeds (/ws/live/, /ws/ops/).
// Every message carries the next version; a gap means a message was lost,
// so the client asks for a fresh snapshot instead of guessing. Reconnects
// back off exponentially with jitter so thousands of browsers don't return
// in the same instant after a restart. An ES module: the dashboard and the
// viewer pages (frontend/static/frontend/live.js) import it.

// Messages without a version are outside the feed's order: `figures` hears
// the figures sent every few seconds (viewers' counts, operators' audience:
// the newest is the truth, none is missed by a gap), `reply` the answers to
// this socket alone. `status(text, since)` hears "" when the link works and
// words when it does not, with since when (ms, the last word from the server).
//
// A server that stops answering without closing (frozen, a half-open link)
// is caught by pings: with `pingSeconds`, a feed quiet that long sends
// {"type": "ping"}, and one unanswered for `silentSeconds` is a lost link,
// dropped and opened again. Only a quiet feed pings, and a hidden page's only
// every HIDDEN_PING_SECONDS: thousands of viewers must not cost the server a
// frame each per second (the server answers with a constant frame).
export function connectFeed(
  url,
  { snapshot, change, status = () => {}, figures = () => {}, reply = () => {} },
  { pingSeconds = 0, silentSeconds = 1.5 } = {},
) {
  const RESTART_SPREAD_MS = 3000;
  const HIDDEN_PING_SECONDS = 30;
  const PING_CHECK_MS = 250;
  const FIGURES = new Set(["viewers", "audience"]);
  let version = null;
  let waiting = true;
  let attempt = 0;
  let socket = null;
  let retry = null;
  let heardAt = Date.now();
  let pingSentAt = 0;

  // After a gap: ask for a snapshot, and again if none came (the server
  // answers at most one request a second per socket).
  function askForSnapshot() {
    waiting = true;
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "snapshot" }));
    clearTimeout(retry);
    retry = setTimeout(() => waiting && askForSnapshot(), 2000);
  }

  function open() {
    socket = new WebSocket(url);
    pingSentAt = 0;
    socket.onopen = () => {
      attempt = 0;
      heardAt = Date.now();
      status("");
    };
    socket.onmessage = (event) => {
      heardAt = Date.now();
      const message = JSON.parse(event.data);
      if (message.type === "pong") return;
      if (message.type === "snapshot") {
        version = message.version;
        waiting = false;
        clearTimeout(retry);
        status("");
        snapshot(message);
        return;
      }
      if (message.type === "status") {
        // The server lost its live state store; a snapshot follows its return.
        status("Reconnecting…", heardAt);
        return;
      }
      if (message.version === undefined) {
        if (!FIGURES.has(message.type)) reply(message);
        else if (!waiting) figures(message);
        return;
      }
      if (waiting || message.version <= version) return;
      if (message.version !== version + 1) {
        askForSnapshot();
        return;
      }
      version = message.version;
      change(message);
    };
    socket.onclose = (event) => {
      waiting = true;
      if (event.code === 4401) {
        status(event.reason || "Not allowed");
        return;
      }
      status("Reconnecting…", heardAt);
      // 4503: this server process is restarting and others serve on. Come
      // back at once, but spread over a few seconds: its viewers must not
      // all land on the others in the same instant.
      const delay =
        event.code === 4503 && attempt === 0
          ? RESTART_SPREAD_MS * Math.random()
          : Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random());
      attempt += 1;
      setTimeout(open, delay);
    };
  }

  open();
  if (pingSeconds) setInterval(checkLink, PING_CHECK_MS);
  return {
    send(message) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    },
    // For a socket that went silent (a half-open connection never closes by
    // itself): drop it without waiting for its closing handshake, and start over.
    restart,
  };

  function restart() {
    const old = socket;
    old.onmessage = old.onclose = null;
    old.close();
    waiting = true;
    status("Reconnecting…", heardAt);
    open();
  }

  // Judged from the last unanswered ping, not from quiet alone: a background
  // tab's timers may run once a minute, and a quiet feed is not a dead one.
  function checkLink() {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    if (pingSentAt && heardAt < pingSentAt) {
      if (now - pingSentAt > silentSeconds * 1000) restart();
      return;
    }
    const every = (document.hidden ? HIDDEN_PING_SECONDS : pingSeconds) * 1000;
    if (now - Math.max(heardAt, pingSentAt) < every) return; // heard lately: alive
    pingSentAt = now;
    socket.send('{"type":"ping"}');
  }
}

export function feedUrl(base, path) {
  return (base || window.location.origin).replace(/^http/, "ws") + path;
}
