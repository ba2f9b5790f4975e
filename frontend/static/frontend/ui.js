// What several viewer pages share: announcing changes to screen readers,
// times in the viewer's own time zone on the one clock (the server's, with the
// schedule offset), and the parts of a room that several pages show (state,
// viewer count, now/next with progress, preview still). Live updates clone the
// server's own markup from <template> elements (_templates.html), never build
// a second copy of it.
import { el, fromTemplate, setHidden, setText } from "../common/dom.js";
import { clockText, nowMs, onZoneChange, setServerTime, showTimes } from "../common/clock.js";

export const now = nowMs;

// Once per change: the same words twice in a row are not news.
export function announce(text) {
  const region = document.getElementById("announce");
  if (region) setText(region, text);
}

// Only http(s) links from config and schedules: never javascript: URLs.
function webUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : "";
  } catch {
    return "";
  }
}

// A snapshot came: the schedule's "now" is the server's, moved by its offset.
export function setClock(serverSeconds, offsetSeconds) {
  setServerTime(serverSeconds, offsetSeconds);
  refresh();
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const SOON_MINUTES = 30;

function timeText(kind, date) {
  const minutes = Math.round((date - now()) / 60000);
  if (kind === "ends") {
    if (minutes <= 0) return "ending now";
    return minutes < 60 ? "ends " + relative.format(minutes, "minute") : "ends at " + clockText(date);
  }
  return "starts at " + clockText(date);
}

function progress(bar) {
  const start = Date.parse(bar.dataset.start);
  const end = Date.parse(bar.dataset.end);
  if (!(end > start)) return;
  bar.value = Math.round(Math.min(100, Math.max(0, ((now() - start) / (end - start)) * 100)));
}

function localizeTimes(root = document) {
  root.querySelectorAll("time[data-kind]").forEach((node) => {
    const date = new Date(node.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) return;
    setText(node, timeText(node.dataset.kind, date));
  });
  showTimes(root);
  root.querySelectorAll("progress.talk").forEach(progress);
}

// live, soon (not live, a talk starts within half an hour) or offline.
export function roomState(room) {
  if (room.live) return "live";
  const starts = room.next ? Date.parse(room.next.start) : NaN;
  return starts - now() < SOON_MINUTES * 60000 && starts > now() ? "soon" : "offline";
}

// A talk's title (a link where it has one) and speakers, into a clone of the
// server's markup; parts the talk lacks are dropped, as the server drops them.
export function fillTalk(node, talk) {
  let title = node.querySelector(".title");
  const filler = fillerTitle(talk);
  if (filler) title.replaceWith((title = filler));
  else title.textContent = talk.title;
  if (talk.language && LANGUAGE_TAG.test(talk.language)) title.lang = talk.language.toLowerCase();
  const url = talk.generated ? "" : webUrl(talk.url || "");
  if (url) title.href = url;
  else title.removeAttribute("href");
  const speakers = node.querySelector(".speakers");
  if ((talk.speakers || []).length) speakers.textContent = talk.speakers.join(", ");
  else {
    if (speakers.previousSibling && speakers.previousSibling.nodeType === Node.TEXT_NODE) speakers.previousSibling.remove();
    speakers.remove(); // with the space before it, as the server leaves both out
  }
  return node;
}

// The schedule's "before" and "end of the day" fillers name a time in the
// tracker's words; said here with the page's clock (templatetags' filler title does the same).
export function fillerTitle(talk) {
  if (talk.filler === "before") return el("span", { class: "title" }, "Starts at ", el("time", { datetime: talk.end, "data-clock": "" }));
  if (talk.filler === "end-of-day") return el("span", { class: "title" }, "End of the day");
  return null;
}

// One language tag ("de", "en-GB"); "de, en" names no single language (templatetags' lang filter).
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

function eventNode(label, talk) {
  const node = fillTalk(fromTemplate(label === "Now" ? "event-now" : "event-next"), talk);
  node.classList.toggle("filler", Boolean(talk.generated));
  node.querySelector("time").setAttribute("datetime", label === "Now" ? talk.end : talk.start);
  const bar = node.querySelector("progress");
  if (bar) Object.assign(bar.dataset, { start: talk.start, end: talk.end });
  return node;
}

function nowNext(room) {
  return [room.now && eventNode("Now", room.now), room.next && eventNode("Next", room.next)].filter(Boolean);
}

// A talk's recording ("watch again"): none when the talk may not be recorded,
// else the schedule's own recording link, else the room's relive-url template
// with the talk's id or guid (extras.py's relive_link does the same).
export function reliveLink(template, talk) {
  if (!talk || talk.generated || talk.do_not_record) return "";
  if (talk.recording) return webUrl(talk.recording);
  if (!template) return "";
  const fields = { guid: talk.guid || "", id: talk.id || "" };
  if (Object.entries(fields).some(([key, value]) => template.includes(`{${key}}`) && !value)) return "";
  return webUrl(Object.entries(fields).reduce((url, [key, value]) => url.replaceAll(`{${key}}`, encodeURIComponent(value)), template));
}

// The page of a talk's recording on this site (the player, title, speakers, description).
export const recordingPage = (room, talk) => `/${encodeURIComponent(room)}/talk/${encodeURIComponent(talk.guid)}`;

function each(attribute, name, callback) {
  document.querySelectorAll(`[${attribute}="${CSS.escape(name)}"]`).forEach(callback);
}

// Viewer counts arrive on their own every few seconds: they touch nothing else
// (the room's state on the page may be the player's, not the tracker's).
export function showViewers(room) {
  each("data-viewers", room.name, (node) => {
    setHidden(node, typeof room.viewers !== "number");
    setText(node, `${room.viewers} watching`);
  });
}

const STATES = { live: "Live", soon: "Starting soon", offline: "Offline", unknown: "Status unknown" };

// Update every element showing this room's state, viewers, still, note or now/next.
// `state` overrules the room's own when the page knows better.
export function showRoom(room, state = roomState(room)) {
  each("data-state", room.name, (node) => {
    setText(node, STATES[state]);
    node.className = "state " + state;
  });
  showViewers(room);
  each("data-still", room.name, (node) => setHidden(node, !room.live));
  each("data-offline-note", room.name, (node) => setHidden(node, room.live));
  if (!("now" in room) && !("next" in room)) return; // a tracker without schedules: keep the page's
  each("data-nownext", room.name, (node) => {
    node.replaceChildren(...nowNext(room));
    localizeTimes(node);
  });
}

// A new room (added by a config reload) from the page's <template id=...>:
// every data-* attribute naming a room names this one, and its links go to it.
export function roomFromTemplate(id, room) {
  const node = fromTemplate(id);
  const named = ["data-room", "data-state", "data-viewers", "data-still", "data-nownext", "data-offline-note"];
  [node, ...node.querySelectorAll("*")].forEach((child) => {
    named.forEach((attribute) => child.hasAttribute(attribute) && child.setAttribute(attribute, room.name));
    if (child.matches("a[href]")) child.href = "/" + encodeURIComponent(room.name);
  });
  node.querySelectorAll(".room-name").forEach((child) => (child.textContent = room.title));
  const preview = webUrl((room.info && room.info.preview) || "");
  node.querySelectorAll("img[data-preview]").forEach((img) => {
    if (!preview) return img.remove();
    img.src = img.dataset.preview = preview;
    img.dataset.interval = Number((room.info && room.info["preview-interval"]) || 10);
    img.alt = img.alt && `Preview of ${room.title}`;
  });
  return node;
}

function reloadPreview(img) {
  const base = img.dataset.preview;
  const next = new Image();
  next.src = base + (base.includes("?") ? "&" : "?") + "t=" + Date.now();
  next.decode().then(
    () => {
      img.src = next.src;
      img.classList.remove("stale");
    },
    () => img.classList.add("stale"), // keep the last good picture
  );
}

// Previews reload every data-interval seconds (at least `least`) without
// flicker: the new image is loaded and decoded off-screen, then swapped in.
export function watchPreview(img, least = 2) {
  setInterval(() => reloadPreview(img), 1000 * Math.max(least, Number(img.dataset.interval) || 10));
}

// Pages with their own time-bound parts (the programme) listen here.
const ticks = [];
function refresh() {
  localizeTimes();
  ticks.forEach((tick) => tick());
}
export function onTick(callback) {
  ticks.push(callback);
}

localizeTimes();
onZoneChange(refresh);
setInterval(refresh, 15000);
