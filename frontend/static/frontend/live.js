// Keeps a map of every room in sync with the tracker's live feed. A viewer
// page (body data-watch) tells the tracker after each snapshot which room it
// watches, with an id per browser tab so a reconnect counts once. Viewer
// counts come every few seconds to pages that show them (data-viewers): the
// watched room's, else the page's room's, else every room's.
import { connectFeed, feedUrl } from "../tracker/feed.js";
import { setClock, showViewers } from "./ui.js";

function tabId() {
  const fresh = () => (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));
  try {
    let id = sessionStorage.getItem("live-tab");
    if (!id) {
      id = fresh();
      sessionStorage.setItem("live-tab", id);
    }
    return id;
  } catch {
    return (tabId.fallback = tabId.fallback || fresh()); // storage refused: one id per page load
  }
}

// Cut off from the tracker this long, the page keeps the last state it had
// but says it may be stale: never "offline" because of our own outage.
const STALE_AFTER = 8000;
// A quiet live feed pings the tracker this often while the page is visible
// (feed.js): a tracker that stopped answering is noticed within about 3 s.
const PING_SECONDS = 1.25;
const CLOCK = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

// The line under the header: since when the live feed is lost, counting up.
function connectionStatus() {
  const line = document.getElementById("connection");
  let lostSince = null;
  let ticker = null;
  const show = () => {
    if (!line) return;
    if (lostSince === null) return (line.textContent = "");
    const seconds = Math.max(0, Math.round((Date.now() - lostSince) / 1000));
    const lost = `since ${CLOCK.format(lostSince)} (${seconds} s)`;
    line.textContent = document.body.classList.contains("stale")
      ? `Status may be stale: reconnecting to the live feed, lost ${lost}…`
      : `Reconnecting to the live feed, lost ${lost}…`;
  };
  return (text, since) => {
    if (!text) {
      lostSince = null;
      clearInterval(ticker);
      ticker = null;
      document.body.classList.remove("stale");
    } else if (lostSince === null) {
      lostSince = since || Date.now();
      ticker = setInterval(() => {
        document.body.classList.toggle("stale", Date.now() - lostSince >= STALE_AFTER);
        show();
      }, 1000);
    }
    show();
  };
}

// onSchedule(roomName), if given, hears that a room's programme changed.
export function connectLive(onRooms, onSchedule) {
  const base = document.body.dataset.tracker;
  const watch = document.body.dataset.watch;
  const status = connectionStatus();
  const rooms = new Map();
  let feed = null;
  let online = false;
  // True when the message went out (the socket is open), false while reconnecting.
  const send = (message) => {
    if (!feed || !online) return false;
    feed.send(message);
    return true;
  };
  feed = connectFeed(feedUrl(base, "/ws/live/"), {
    snapshot(message) {
      setClock(message.time, message.schedule_offset);
      rooms.clear();
      message.rooms.forEach((room) => rooms.set(room.name, room));
      if (watch) send({ type: "watch", room: watch, tab: tabId() });
      else if (document.querySelector("[data-viewers]")) send({ type: "viewers", room: document.body.dataset.room });
      onRooms(rooms);
    },
    figures(message) {
      if (message.type !== "viewers") return;
      // Only the counts changed: update them in place, the page's own rendering stays.
      Object.entries(message.rooms).forEach(([name, viewers]) => {
        const room = rooms.get(name);
        if (!room) return;
        room.viewers = viewers;
        showViewers(room);
      });
    },
    change(message) {
      if (message.type === "schedule") {
        if (onSchedule) onSchedule(message.room);
      } else if (message.type === "room") {
        rooms.set(message.room.name, message.room);
        onRooms(rooms);
      }
    },
    status(text, since) {
      online = !text;
      status(text, since);
    },
  }, { pingSeconds: PING_SECONDS });
  return { send, tab: tabId() };
}
