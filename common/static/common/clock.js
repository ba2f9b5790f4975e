// One clock for every page: the server's time (sent with each snapshot) plus
// an optional schedule offset (rehearsals replay a day at another time), so a
// browser whose own clock is wrong still times talks and durations right.
//
// Viewer pages show every time in one zone and one format: the event's zone
// (<body data-timezone>) by default, or the viewer's own once they ask (the
// choice is remembered), in the page's language (<html lang>). A time whose
// date is not the date of its heading (or today, without one) says which.

let skewMs = 0;

// serverSeconds: the server's Unix time from a snapshot; offsetSeconds: the
// schedule offset, 0 outside rehearsals.
export function setServerTime(serverSeconds, offsetSeconds = 0) {
  if (typeof serverSeconds !== "number") return;
  skewMs = serverSeconds * 1000 - Date.now() + (Number(offsetSeconds) || 0) * 1000;
}

// Milliseconds since the epoch, on the server's (and schedule's) clock.
export const nowMs = () => Date.now() + skewMs;

// One formatter for the dashboard: toLocaleTimeString builds a new one per
// call, which showed in profiles. "14:45" in the viewer's own locale and zone.
const HOUR_MINUTE = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
export const hourMinute = (date) => HOUR_MINUTE.format(date);

const STORED = "clock-zone"; // localStorage: "own" for the viewer's zone, else the event's
const eventZone = (typeof document !== "undefined" && document.body && document.body.dataset.timezone) || "UTC";
const language = (typeof document !== "undefined" && document.documentElement.lang) || undefined;

function remembered() {
  try {
    return localStorage.getItem(STORED) === "own";
  } catch {
    return false; // storage blocked: the event's zone
  }
}

let ownZone = remembered();
let formats = null;

function formatters() {
  if (formats) return formats;
  const timeZone = ownZone ? undefined : eventZone;
  formats = {
    time: new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit", timeZone }),
    day: new Intl.DateTimeFormat(language, { weekday: "short", day: "numeric", month: "short", timeZone }),
    // en-CA writes dates as YYYY-MM-DD: the key compared with headings' data-date.
    key: new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone }),
  };
  return formats;
}

// The zone pages show times in: the event's, or undefined for the viewer's own.
export const shownZone = () => (ownZone ? Intl.DateTimeFormat().resolvedOptions().timeZone : eventZone);
export const usesOwnZone = () => ownZone;

// "14:45" (or "2:45 PM", as the page's language writes it) in the shown zone.
export const clockTime = (date) => formatters().time.format(date);
// The calendar date of a moment in the shown zone, as YYYY-MM-DD.
export const dateKey = (date) => formatters().key.format(date);
// "14:45", or "01:00 (Sun, Dec 28)" when the moment is on another date than `heading` (YYYY-MM-DD).
export function clockText(date, heading = dateKey(nowMs())) {
  const time = clockTime(date);
  return dateKey(date) === heading ? time : `${time} (${formatters().day.format(date)})`;
}

// Every <time data-clock> under root, in the shown zone; its heading is the
// nearest [data-date] around it.
export function showTimes(root = document) {
  root.querySelectorAll("time[data-clock]").forEach((node) => {
    const date = new Date(node.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) return;
    const heading = node.closest("[data-date]");
    const text = clockText(date, heading && heading.dataset.date ? heading.dataset.date : undefined);
    if (node.textContent !== text) node.textContent = text;
  });
}

const listeners = [];
// Called after the viewer switched zones (pages redraw their relative times).
export const onZoneChange = (callback) => listeners.push(callback);

function showSwitch() {
  const button = document.getElementById("clock-zone");
  const name = document.getElementById("clock-zone-name");
  if (!button) return;
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  button.hidden = own === eventZone && !ownZone; // nothing to switch to
  button.setAttribute("aria-pressed", String(ownZone));
  if (name) name.textContent = ownZone ? `Times in your time zone (${own})` : `Times in the event's time zone (${eventZone})`;
}

// The header's switch between the event's zone and the viewer's own, remembered.
export function setOwnZone(own) {
  ownZone = own;
  formats = null;
  try {
    localStorage.setItem(STORED, own ? "own" : "event");
  } catch {
    // not remembered, still switched
  }
  showSwitch();
  showTimes();
  listeners.forEach((callback) => callback());
}

if (typeof document !== "undefined") {
  const button = document.getElementById("clock-zone");
  if (button) button.addEventListener("click", () => setOwnZone(!ownZone));
  showSwitch();
  showTimes();
}
