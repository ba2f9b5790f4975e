// Client of the tracker's versioned feeds (/ws/live/, /ws/ops/).
// Every message carries the next version; a gap means a message was lost,
// so the client asks for a fresh snapshot instead of guessing. Reconnects
// back off exponentially with jitter so thousands of browsers don't return
// in the same instant after a restart. An ES module: the dashboard and the
// viewer pages (frontend/static/frontend/live.js) import it.

// Messages without a version are outside the feed's order: `figures` hears
// the figures sent every few seconds (viewers' counts, operators' audience:
// the newest is the truth, none is missed by a gap), `reply` the answers to
// this socket alone.
export function connectFeed(
  url,
  { snapshot, change, status = () => {}, figures = () => {}, reply = () => {} },
) {
  const RESTART_SPREAD_MS = 3000;
  const FIGURES = new Set(["viewers", "audience"]);
  let version = null;
  let waiting = true;
  let attempt = 0;
  let socket = null;
  let retry = null;

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
    socket.onopen = () => {
      attempt = 0;
      status("");
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
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
        status("Reconnecting…");
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
      status("Reconnecting…");
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
  return {
    send(message) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    },
    // For a socket that went silent (a half-open connection never closes by
    // itself): drop it without waiting for its closing handshake, and start over.
    restart() {
      const old = socket;
      old.onmessage = old.onclose = null;
      old.close();
      waiting = true;
      status("Reconnecting…");
      open();
    },
  };
}

export function feedUrl(base, path) {
  return (base || window.location.origin).replace(/^http/, "ws") + path;
}
