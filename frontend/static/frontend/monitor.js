// The monitor wall: every room with its preview, state, viewers and now/next,
// updating live; previews reload every N seconds without flicker (ui.js). A
// room added by a config reload gets a tile from the page's own <template>.
// The grid fits the screen for any count of rooms (no scrolling on a TV); a
// clock in the event's time zone; and, when the wall's switch is on (off by
// default, remembered per browser), muted live video in the tiles of live
// rooms from their lowest rendition, at most MAX_PLAYERS at once.
import { clockTime, nowMs } from "../common/clock.js";
import { HLS_TYPE, loadHls } from "./hls_loader.js";
import { connectLive } from "./live.js";
import { roomFromTemplate, showRoom, watchPreview } from "./ui.js";

const wall = document.getElementById("wall");
const clock = document.getElementById("wall-clock");
const videoSwitch = document.getElementById("wall-video");
const STORED = "monitor-video";
// Each player decodes a stream: a wall's computer and the venue's uplink stand a few, not twelve.
// ?players=N sets another cap for this wall (0 to 12).
const asked = Number(new URLSearchParams(location.search).get("players"));
const MAX_PLAYERS = Number.isInteger(asked) && asked >= 0 && asked <= 12 && location.search.includes("players=") ? asked : 4;
// A tile is a 16:9 picture with four lines of text under it: about this wide for its height.
const TILE_ASPECT = 1.2;
let rooms = new Map();

document.getElementById("wall-players").textContent = String(MAX_PLAYERS);

// Columns and rows that give the largest tiles for this count on this screen.
function fit() {
  const tiles = wall.children.length || 1;
  const { width, height } = wall.getBoundingClientRect();
  let best = { score: -1, columns: 1, rows: tiles };
  for (let columns = 1; columns <= tiles; columns++) {
    const rows = Math.ceil(tiles / columns);
    const score = Math.min(width / columns, (height / rows) * TILE_ASPECT);
    if (score > best.score + 0.5) best = { score, columns, rows };
  }
  wall.style.setProperty("--columns", best.columns);
  wall.style.setProperty("--rows", best.rows);
}

function tick() {
  clock.textContent = clockTime(nowMs());
  clock.setAttribute("datetime", new Date(nowMs()).toISOString());
}

// The room's lowest video rendition the browser can play: SD before HD; HLS capped to its lowest level.
function lowest(room) {
  const probe = document.createElement("video");
  const playable = (stream) =>
    stream.format === "hls" ? probe.canPlayType(HLS_TYPE) !== "" || "MediaSource" in window : ["webm", "mp4"].includes(stream.format);
  const rank = (stream) => (stream.quality === "hd" ? 1 : 0) * 10 + ["webm", "mp4", "hls"].indexOf(stream.format);
  return (room.streams || []).filter(playable).sort((a, b) => rank(a) - rank(b))[0] || null;
}

function stopVideo(tile) {
  const video = tile.querySelector("video");
  if (!video) return;
  if (video.hls) video.hls.destroy();
  video.removeAttribute("src");
  video.load();
  video.remove();
}

async function startVideo(tile, stream) {
  const video = Object.assign(document.createElement("video"), { muted: true, autoplay: true, playsInline: true });
  video.setAttribute("aria-hidden", "true"); // the room's state and talk are said in text; the picture is for the eyes
  video.tabIndex = -1;
  video.dataset.url = stream.url;
  tile.querySelector(".preview").append(video);
  const Hls = stream.format === "hls" && video.canPlayType(HLS_TYPE) === "" ? await loadHls() : null;
  if (!video.isConnected) return;
  if (Hls && Hls.isSupported()) {
    video.hls = new Hls({ startLevel: 0, capLevelToPlayerSize: true });
    video.hls.on(Hls.Events.MANIFEST_PARSED, () => (video.hls.autoLevelCapping = 0));
    video.hls.loadSource(stream.url);
    video.hls.attachMedia(video);
  } else video.src = stream.url;
  video.play().catch(() => {});
}

// Videos for the first live rooms, up to the cap; none when the switch is off.
function showVideos() {
  let playing = 0;
  wall.querySelectorAll(".tile").forEach((tile) => {
    const room = rooms.get(tile.dataset.room);
    const stream = videoSwitch.checked && room && room.live && playing < MAX_PLAYERS ? lowest(room) : null;
    const video = tile.querySelector("video");
    if (video && (!stream || video.dataset.url !== stream.url)) stopVideo(tile);
    if (stream) {
      playing += 1;
      if (!tile.querySelector("video")) startVideo(tile, stream);
    }
  });
}

try {
  videoSwitch.checked = localStorage.getItem(STORED) === "on";
} catch {
  videoSwitch.checked = false;
}
videoSwitch.addEventListener("change", () => {
  try {
    localStorage.setItem(STORED, videoSwitch.checked ? "on" : "off");
  } catch {
    // not remembered, still switched
  }
  showVideos();
});

wall.querySelectorAll("img[data-preview]").forEach((img) => watchPreview(img));
new ResizeObserver(fit).observe(wall);
fit();
tick();
setInterval(tick, 1000);

connectLive((latest) => {
  rooms = latest;
  let added = false;
  latest.forEach((room) => {
    let tile = wall.querySelector(`.tile[data-room="${CSS.escape(room.name)}"]`);
    if (!tile) {
      wall.append((tile = roomFromTemplate("tile", room)));
      tile.querySelectorAll("img[data-preview]").forEach((img) => watchPreview(img));
      added = true;
    }
    tile.classList.toggle("live", room.live);
    showRoom(room);
  });
  if (added) fit();
  showVideos();
});
