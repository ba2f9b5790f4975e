// Keeps a map of every room in sync with the tracker's live socket.
// Messages carry consecutive versions: a gap means something was lost, so
// the client asks for a fresh snapshot instead of guessing.
"use strict";

window.connectLive = function connectLive(onRooms) {
  const base = document.body.dataset.tracker || window.location.origin;
  const url = base.replace(/^http/, "ws") + "/ws/live/";
  const status = document.getElementById("connection");
  const rooms = new Map();
  let version = null;
  let waitingForSnapshot = true;
  let attempt = 0;

  function setStatus(text) {
    if (status) status.textContent = text;
  }

  function open() {
    const socket = new WebSocket(url);
    socket.onopen = () => {
      attempt = 0;
      setStatus("");
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "snapshot") {
        rooms.clear();
        message.rooms.forEach((room) => rooms.set(room.name, room));
        version = message.version;
        waitingForSnapshot = false;
        onRooms(rooms);
      } else if (message.type === "room" && !waitingForSnapshot) {
        if (message.version <= version) return;
        if (message.version !== version + 1) {
          waitingForSnapshot = true;
          socket.send(JSON.stringify({ type: "snapshot" }));
          return;
        }
        version = message.version;
        rooms.set(message.room.name, message.room);
        onRooms(rooms);
      }
    };
    socket.onclose = () => {
      waitingForSnapshot = true;
      setStatus("Reconnecting…");
      // Exponential backoff with jitter, so thousands of viewers do not
      // reconnect in the same instant after a restart.
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random());
      attempt += 1;
      setTimeout(open, delay);
    };
  }

  open();
};
