// The operators' dashboard: every encoder's health, live from /ws/ops/.
//
// One grid for the whole site: a <tbody> per room, a row per encoder, kept
// by key and cloned from the <template>s in dashboard.html. A message marks
// what it changed; one pass per frame writes only the cells whose text
// changed and moves only the rows that are out of place (worst first,
// dashboard-model.js decides).
import { el, fromTemplate, setClass, setHidden, setText } from "../common/dom.js";
import { clockTime, nowMs, setServerTime } from "../common/clock.js";
import * as M from "./dashboard-model.js";
import { connectFeed, feedUrl } from "./feed.js";

// What the viewer pages' player plays (frontend/static/frontend/player.js).
const PLAYED_FORMATS = new Set(["hls", "webm", "mp4", "audio"]);
const SPARK_SECONDS = 600;
const SPARK_STEP = 10;
const PREVIEW_CHECK_SECONDS = 60;
const REFRESH_SECONDS = 15;
// A quiet feed pings the server each second, and a ping unanswered 1.5 s
// means the link is dead (feed.js): a server that stopped without closing is
// caught within about 3 s.
const PING_SECONDS = 1;
const ROOM_COLORS = {
  "off-air-talk": "#c62828",
  "viewers-failing": "#ad1457",
  "format-lost": "#b45309",
  "redundancy-lost": "#9a5b00",
  "no-encoders": "#546e7a",
  "on-air": "#2e7d32",
  "off-air": "#757575",
};
const COLORS = { down: "#c62828", disconnected: "#6a1b9a", degraded: "#9a5b00", late: "#b45309", up: "#2e7d32", empty: "#2e7d32" };

const grid = document.getElementById("grid");
const summary = document.getElementById("summary");
const offline = document.getElementById("offline");
const setupList = document.getElementById("setup");
const refused = document.getElementById("refused");
const sound = document.getElementById("sound");
const compact = document.getElementById("compact");
const favicon = document.getElementById("favicon");
const filterBox = document.getElementById("filter");

let rooms = [];
const encoders = new Map(); // "room/name" -> record
const logs = new Map(); // room -> log entries (transitions and operators' actions), newest first
const sparks = new Map(); // "room/name" -> [[t, clients, bitrate], ...]
// Viewers' reports are not in the snapshot (a crowd could make it too big to
// send): it counts each room's reporters, the pages are asked for apart.
const reports = new Map(); // room -> {total, entries: [[reporter, report], ...] newest first}
const previews = new Map(); // room -> why its preview does not load ("" when it does)
const onStage = {}; // room -> {now, next}: the talks, from the viewers' feed
let audience = {}; // room -> {viewers, health, clients, failing, evidence}
let roomStates = {}; // room -> the server's judgement: {state, label, severity, reasons, since, viewers}
let schedules = {}; // room -> {events, ok_at, error, error_at, key, names}
let controls = {}; // "ack:room/name" | "silence:room[/name]" | "note:room/name" -> value
let setup = []; // site-wide setup problems, in words
let connected = false;
let offlineSince = Date.now() / 1000;

// Seconds on the server's clock (common/clock.js), as the records count them.
const now = () => nowMs() / 1000;
const member = (record) => `${record.room}/${record.name}`;
// Every time on the page in one zone, the event's (body data-timezone, as on the viewers' pages), not the laptop's.
const clock = (t) => clockTime(t * 1000);

function setItems(list, texts) {
  if (list.dataset.items === JSON.stringify(texts)) return;
  list.dataset.items = JSON.stringify(texts);
  list.replaceChildren(...texts.map((text) => el("li", {}, text)));
  setHidden(list, texts.length === 0);
}

function send(message) {
  if (connected) ops.send(message);
  else showRefused("not connected to the server; try again once the banner is gone");
}

function showRefused(text) {
  setText(refused, `Not done: ${text}`);
  setHidden(refused, false);
  clearTimeout(showRefused.timer);
  showRefused.timer = setTimeout(() => setHidden(refused, true), 8000);
}

// --- settings of this browser

function toggleSetting(box, key, apply) {
  box.checked = localStorage.getItem(key) === "on";
  apply(box.checked);
  box.addEventListener("change", () => {
    localStorage.setItem(key, box.checked ? "on" : "off");
    apply(box.checked);
  });
}
toggleSetting(sound, "dashboard-sound", () => {});
toggleSetting(compact, "dashboard-compact", (on) => document.body.classList.toggle("compact", on));

// The filter lives in the address (?filter=hall-1): a screen per room is a bookmark.
filterBox.value = new URLSearchParams(window.location.search).get("filter") || "";
filterBox.addEventListener("input", () => {
  const url = new URL(window.location.href);
  if (filterBox.value) url.searchParams.set("filter", filterBox.value);
  else url.searchParams.delete("filter");
  window.history.replaceState(null, "", url);
  changed();
});

// --- one room: a <tbody> whose first row says how the room is

// A silence menu cloned with its row: choosing sends the silence at once.
function wireSilenceMenu(select, target) {
  select.setAttribute("aria-label", `Silence alerts for ${target.name || target.room}`);
  select.addEventListener("change", () => {
    if (select.value !== "") send({ type: "silence", ...target, minutes: Number(select.value) });
    select.value = "";
  });
}

function roomView(room) {
  const body = fromTemplate("room-template");
  body.dataset.room = room.name;
  const find = (selector) => body.querySelector(selector);
  wireSilenceMenu(find(".silence-menu"), { room: room.name });
  find(".message-button").addEventListener("click", () => {
    const current = controls[`message:${room.name}`];
    const text = window.prompt(`Message to the viewers of ${room.title}, on every page of the room (empty clears it)`, current ? current.text : "");
    if (text !== null) send({ type: "message", room: room.name, text });
  });
  const clearMessage = find(".clear-message");
  clearMessage.addEventListener("click", () => send({ type: "message", room: room.name, text: "" }));
  find(".reports-more").addEventListener("click", () => {
    const known = reports.get(room.name);
    send({ type: "reports", room: room.name, offset: known ? known.entries.length : 0 });
  });
  // Pages are asked for when an operator opens the list, not for every room at once.
  find(".reports-box").addEventListener("toggle", (event) => {
    if (event.target.open) send({ type: "reports", room: room.name, offset: 0 });
  });
  find(".history-link").href = `/tracker/history/${encodeURIComponent(room.name)}/`;
  return {
    message: find(".message"),
    clearMessage,
    body,
    title: find(".title"),
    badge: find(".badge"),
    viewers: find(".audience"),
    talks: find(".nownext"),
    silenced: find(".silenced"),
    problems: find(".problems"),
    reportList: find(".reports"),
    reportSummary: find(".reports-box summary"),
    reportBox: find(".reports-box"),
    reportMore: find(".reports-more"),
    logList: find(".log"),
    logSummary: find(".log-box summary"),
  };
}

function roomProblems(room, records) {
  const texts = [];
  const judged = roomStates[room.name];
  if (judged && M.roomProblem(judged.state)) {
    texts.push(`${M.roomStateText(judged)} (for ${M.duration(now() - judged.since)})`);
    const failing = M.failingText(judged.viewers);
    if (judged.state === "viewers-failing" && failing) texts.push(`Viewers failing: ${failing}`);
  }
  const status = schedules[room.name];
  if (status && status.error) {
    const kept = status.ok_at ? `; showing the schedule fetched ${M.ago(now() - status.ok_at)}` : "";
    texts.push(`Schedule problem for ${M.duration(now() - status.error_at)}: ${status.error}${kept}`);
  }
  if (status && !status.error && status.events === 0 && status.names) {
    const names = status.names.length ? status.names.map((n) => `“${n}”`).join(", ") : "none";
    texts.push(`Schedule has 0 events for “${status.key}”; the source's rooms are ${names} (set schedule-key)`);
  }
  if (previews.get(room.name)) texts.push(previews.get(room.name));
  const unplayed = new Set();
  records.forEach((r) => (r.streams || []).forEach((s) => PLAYED_FORMATS.has(s.format) || unplayed.add(s.format)));
  if (unplayed.size) texts.push(`Streams in ${[...unplayed].join(", ")}: no viewer page plays this format`);
  return texts;
}

function logText(entry) {
  const who = entry.name ? entry.name : "the room";
  if (entry.kind === "ack") return `${clock(entry.at)} ${entry.by} acknowledged ${who} (${entry.state})`;
  if (entry.kind === "silence") return `${clock(entry.at)} ${entry.by} silenced ${who} until ${clock(entry.until)}`;
  if (entry.kind === "unsilence") return `${clock(entry.at)} ${entry.by} ended the silence of ${who}`;
  if (entry.kind === "room") return `${clock(entry.at)} the room: ${M.ROOM_LABELS[entry.old] || "new"} → ${entry.label}`;
  if (entry.kind === "message") return `${clock(entry.at)} ${entry.by} ${entry.text ? `told the viewers: “${entry.text}”` : "cleared the message to viewers"}`;
  if (entry.kind === "note") return `${clock(entry.at)} ${entry.by} ${entry.text ? `noted on ${who}: ${entry.text}` : `removed the note on ${who}`}`;
  return `${clock(entry.at)} ${entry.name}: ${entry.old || "new"} → ${entry.new} (${entry.reason})`;
}

function reportItem([id, report]) {
  const item = fromTemplate("report-template");
  item.dataset.id = id;
  const time = item.querySelector("time");
  time.dateTime = new Date(report.at * 1000).toISOString();
  time.textContent = clock(report.at);
  item.querySelector(".text").textContent = report.text || "(no words)";
  item.querySelector(".count").textContent = report.count > 1 ? ` ×${report.count}` : "";
  item.querySelectorAll("[data-field]").forEach((detail) => {
    const value = report[detail.dataset.field];
    detail.hidden = !value;
    detail.querySelector("b").textContent = value || "";
  });
  return item;
}

// Only a list with new or merged reports is redrawn.
function setReports(list, entries) {
  const ids = entries.map(([id, report]) => `${id}@${report.at}`).join(" ");
  if (list.dataset.ids === ids) return;
  list.dataset.ids = ids;
  list.replaceChildren(...entries.map(reportItem));
}

function addReportPage({ room, total, entries }) {
  const known = reports.get(room) || { total: 0, entries: [] };
  const byId = new Map([...known.entries, ...entries]);
  const sorted = [...byId.entries()].sort(([, a], [, b]) => b.at - a.at);
  reports.set(room, { total, entries: sorted });
  changed(room);
}

function updateRoom(view, entry) {
  const { room, state, roomState, encoders: records } = entry;
  setText(view.title, room.title);
  // The room's colour and badge are its own state; its encoders' are on their rows.
  setClass(view.body, `room room-${roomState}`);
  view.body.dataset.state = state;
  view.body.dataset.roomState = roomState;
  setText(view.badge, M.ROOM_LABELS[roomState] || "not judged yet");
  setText(view.viewers, [M.playbackText(audience[room.name]), M.streamingText(records)].filter(Boolean).join(" · "));
  const stage = onStage[room.name];
  const parts = [];
  if (stage && stage.now) parts.push(`Now: ${stage.now.title}`);
  if (stage && stage.next) parts.push(`Next ${clock(Date.parse(stage.next.start) / 1000)}: ${stage.next.title}`);
  setText(view.talks, parts.join(" · "));
  // The message viewers read; back on air, the button offers to clear it.
  const message = controls[`message:${room.name}`];
  setText(view.message, message ? `Viewers read: “${message.text}” (${message.by}, ${clock(message.at)})` : "");
  setHidden(view.clearMessage, !message);
  view.clearMessage.classList.toggle("offer", Boolean(message) && roomState === "on-air");
  setText(view.clearMessage, message && roomState === "on-air" ? "Back on air: clear the message?" : "Clear message");
  const silence = controls[`silence:${room.name}`];
  setText(view.silenced, silence && silence.until > now() ? `Alerts silenced until ${clock(silence.until)} by ${silence.by}` : "");
  setItems(view.problems, roomProblems(room, records));
  const { total, entries: roomReports } = reports.get(room.name) || { total: 0, entries: [] };
  setText(view.reportSummary, `Viewer reports (${total})`);
  setHidden(view.reportBox, total === 0);
  setHidden(view.reportMore, roomReports.length >= total);
  setReports(view.reportList, roomReports);
  const entries = (logs.get(room.name) || []).slice(0, 20);
  setText(view.logSummary, `Log (${entries.length})`);
  setItems(view.logList, entries.map(logText));
}

// --- one encoder: a row whose cells are rewritten only when their text changes

function rowView(record) {
  const key = member(record);
  const target = { room: record.room, name: record.name };
  const row = fromTemplate("encoder-template");
  row.dataset.encoder = record.name;
  const find = (selector) => row.querySelector(selector);
  find(".name").textContent = record.name;
  find(".name").href = `/tracker/history/${encodeURIComponent(record.room)}/${encodeURIComponent(record.name)}/`;
  const ackButton = find(".ack-button");
  ackButton.addEventListener("click", () => send({ type: "ack", ...target }));
  wireSilenceMenu(find(".silence-menu"), target);
  find(".note-button").addEventListener("click", () => {
    const current = controls[`note:${key}`];
    const text = window.prompt(`Note on ${record.name} (empty removes it)`, current ? current.text : "");
    if (text !== null) send({ type: "note", ...target, text });
  });
  return {
    row,
    key,
    ackButton,
    role: find(".role"),
    state: find(".state"),
    note: find(".note"),
    badge: find(".badge"),
    reason: find(".reason"),
    ack: find(".ack"),
    silenced: find(".silenced"),
    since: find(".since .clock"),
    seen: find(".seen .clock"),
    streams: find(".streams"),
    metrics: find(".metrics"),
    spark: find(".spark-cell"),
    sparkAt: -1,
  };
}

function streamLines(record) {
  const errors = (record.metrics && record.metrics.errors) || [];
  const lines = (record.streams || []).map((stream) => {
    // A failing stream is named by its own error (the mount), or by an error whose source names it.
    const failing = stream.error || errors.filter((e) => [stream.url, stream.quality, stream.mount].includes(e.source)).map((e) => e.reason).join("; ");
    const unplayed = PLAYED_FORMATS.has(stream.format) ? "" : " · no viewer page plays this";
    return { text: M.streamText(stream) + unplayed + (failing ? ` · failing: ${failing}` : ""), failing: Boolean(failing) };
  });
  lines.sort((a, b) => b.failing - a.failing); // the failing ones first: compact mode shows the first
  // Streams counted but never offered (a legacy encoder's FLV, its loop), the
  // encoder's totals, and figures it sent that nobody defined.
  (record.counted || []).forEach((c) => lines.push({ text: `${c.name}: ${M.plural(c.clients, "client")}, not offered (${c.why})`, failing: false }));
  const totals = record.totals || {};
  if (totals.clients !== undefined && (record.counted || []).length) {
    lines.push({ text: `total ${M.plural(totals.clients, "client")} · out ${M.rate(totals.bandwidth || 0)}`, failing: false });
  }
  const stats = Object.entries(record.stats || {}).map(([key, value]) => `${key} ${value}`);
  if (stats.length) lines.push({ text: stats.join(" · "), failing: false });
  return lines.length ? lines : [{ text: "no streams", failing: false }];
}

function updateRow(view, record) {
  setClass(view.row, `encoder state-${record.state}`);
  setText(view.role, record.role);
  const note = controls[`note:${view.key}`];
  setText(view.note, note ? `Note: ${note.text} (${note.by})` : "");
  setText(view.badge, record.state);
  setText(view.reason, record.reason || "");
  const problem = record.state !== "up";
  const ack = controls[`ack:${view.key}`];
  const acked = M.acknowledged(ack, record);
  setText(view.ack, acked ? `✔ ${ack.by} is on it (${clock(ack.at)})` : "");
  setHidden(view.ackButton, !problem || acked);
  const silence = M.silenceFor(silencesOf(), record.room, record.name, now());
  setText(view.silenced, silence ? `silenced until ${clock(silence.until)} by ${silence.by}` : "");
  // Compact mode cuts the state cell to one line: the whole of it on hover.
  const full = [record.state, record.reason, view.ack.textContent, view.silenced.textContent, view.note.textContent];
  const title = full.filter(Boolean).join(" · ");
  if (view.state.title !== title) view.state.title = title;
  setText(view.since, M.duration(now() - record.since));
  setText(view.seen, M.ago(now() - record.last_seen));
  const lines = streamLines(record);
  const texts = lines.map((l) => l.text);
  if (view.streams.dataset.items !== JSON.stringify(texts)) {
    view.streams.dataset.items = JSON.stringify(texts);
    view.streams.title = texts.join("\n");
    view.streams.replaceChildren(...lines.map((l) => el("li", l.failing ? { class: "failing" } : {}, l.text)));
  }
  setText(view.metrics, metricsText(record.metrics || {}));
  const points = sparks.get(view.key) || [];
  const last = points.length ? points[points.length - 1][0] : -1;
  if (last !== view.sparkAt) {
    view.sparkAt = last;
    view.spark.replaceChildren(sparkline(points));
  }
}

function silencesOf() {
  const silences = {};
  Object.entries(controls).forEach(([field, value]) => field.startsWith("silence:") && (silences[field.slice(8)] = value));
  return silences;
}

function metricsText(metrics) {
  const parts = [];
  if (metrics.cpu !== undefined) parts.push(`cpu ${Math.round(metrics.cpu)}%`);
  if (metrics.memory !== undefined) parts.push(`mem ${Math.round(metrics.memory)}%`);
  if (metrics.dropped_frames !== undefined) parts.push(`dropped ${metrics.dropped_frames}`);
  if (metrics.silence !== undefined) parts.push(`silent ${M.duration(metrics.silence)}`);
  if (metrics.audio_level !== undefined) parts.push(`audio ${metrics.audio_level} dB`);
  if (metrics.uptime !== undefined) parts.push(`up ${M.duration(metrics.uptime)}`);
  return parts.join(" · ");
}

function sparkline(points) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 100 20");
  svg.setAttribute("class", "spark");
  svg.setAttribute("aria-hidden", "true");
  if (points.length > 1) {
    const start = now() - SPARK_SECONDS;
    const top = Math.max(1, ...points.map((p) => p[1]));
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute(
      "points",
      points.map((p) => `${(((p[0] - start) / SPARK_SECONDS) * 100).toFixed(1)},${(19 - (p[1] / top) * 18).toFixed(1)}`).join(" "),
    );
    svg.append(line);
  }
  return svg;
}

function addSparkPoint(record) {
  const points = sparks.get(member(record)) || [];
  const last = points[points.length - 1];
  if (!last || record.last_seen - last[0] >= SPARK_STEP) {
    const streams = record.streams || [];
    points.push([record.last_seen, streams.reduce((s, x) => s + x.clients, 0), streams.reduce((s, x) => s + x.bitrate, 0)]);
  }
  sparks.set(member(record), points.filter((p) => p[0] >= now() - SPARK_SECONDS));
}

// --- one pass over what changed

const roomViews = new Map();
const rowViews = new Map();
const dirtyRows = new Set(); // "room/name" of rows to rewrite
const dirtyRooms = new Set(); // rooms whose head to rewrite
let everything = true;
let pending = false;

// changed(): everything; changed("room"): a room's head; changed("room/name"): a row and its room's head.
function changed(key) {
  if (!key) everything = true;
  else if (key.includes("/")) {
    dirtyRows.add(key);
    dirtyRooms.add(key.slice(0, key.indexOf("/")));
  } else dirtyRooms.add(key);
  if (!pending) {
    pending = true;
    // Not requestAnimationFrame: it stops in a background tab, and the title and sound must not.
    setTimeout(flush, 16);
  }
}

// Puts `node` at position `index` of `parent`'s element children, moving it only if it is elsewhere.
function place(parent, node, index) {
  const at = parent.children[index];
  if (at !== node) parent.insertBefore(node, at || null);
}

function flush() {
  pending = false;
  const ordered = M.orderRooms(rooms, [...encoders.values()], roomStates, M.scheduleTrouble(schedules));
  const seenRooms = new Set();
  const seenRows = new Set();
  let filteredProblems = 0; // problems the filter hides: the summary still says them
  ordered.forEach((entry, roomIndex) => {
    const name = entry.room.name;
    seenRooms.add(name);
    let view = roomViews.get(name);
    if (!view) {
      roomViews.set(name, (view = roomView(entry.room)));
      updateRoom(view, entry);
    } else if (everything || dirtyRooms.has(name) || view.body.dataset.state !== entry.state || view.body.dataset.roomState !== entry.roomState) {
      updateRoom(view, entry);
    }
    place(grid, view.body, roomIndex + 1); // after the <thead>
    const shown = M.filterRoom(filterBox.value, entry.room, entry.encoders);
    setHidden(view.body, !shown.room);
    entry.encoders.forEach((record, rowIndex) => {
      const key = member(record);
      seenRows.add(key);
      let row = rowViews.get(key);
      if (!row) {
        rowViews.set(key, (row = rowView(record)));
        updateRow(row, record);
      } else if (everything || dirtyRows.has(key)) {
        updateRow(row, record);
      }
      place(view.body, row.row, rowIndex + 1); // after the room's head
      setHidden(row.row, !shown.encoders.includes(record.name));
      if (row.row.hidden && record.state !== "up") filteredProblems += 1;
    });
  });
  rowViews.forEach((view, key) => seenRows.has(key) || (view.row.remove(), rowViews.delete(key)));
  roomViews.forEach((view, name) => seenRooms.has(name) || (view.body.remove(), roomViews.delete(name)));
  dirtyRows.clear();
  dirtyRooms.clear();
  everything = false;
  setItems(setupList, setup);
  announce(ordered, filteredProblems);
}

function announce(ordered, filteredProblems) {
  const counts = {};
  encoders.forEach((r) => (counts[r.state] = (counts[r.state] || 0) + 1));
  const outside = filteredProblems ? ` (${M.plural(filteredProblems, "problem")} outside the filter)` : "";
  const roomCounts = {};
  ordered.forEach((entry) => (roomCounts[entry.roomState] = (roomCounts[entry.roomState] || 0) + 1));
  const roomsText = M.ROOM_STATES.filter((s) => roomCounts[s]).map((s) => `${roomCounts[s]} ${M.ROOM_LABELS[s]}`).join(", ");
  const encodersText = M.STATES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(", ");
  setText(summary, connected ? `Rooms: ${roomsText || "not judged yet"} · Encoders: ${encodersText || "none yet"}${outside}` : "Not connected");
  const acks = {};
  Object.entries(controls).forEach(([field, value]) => field.startsWith("ack:") && (acks[field.slice(4)] = value));
  const problems = M.problemCounts([...encoders.values()], roomStates, acks);
  const title = M.titleText(problems.counts, { connected, rooms: problems.rooms, acked: problems.acked });
  if (document.title !== title) document.title = title;
  const worstRoom = ordered.length ? ordered[0].roomState : "unknown";
  drawFavicon(connected ? ROOM_COLORS[worstRoom] || COLORS.up : "#757575", connected ? problems.open : 0);
  document.body.dataset.worst = connected ? worstRoom : "unknown";
}

let faviconDrawn = "";

function drawFavicon(color, count) {
  if (faviconDrawn === `${color}/${count}`) return;
  faviconDrawn = `${color}/${count}`;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 32;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.arc(16, 16, 16, 0, 2 * Math.PI);
  ctx.fill();
  if (count) {
    ctx.fillStyle = "#fff";
    ctx.font = "bold 20px sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(count > 9 ? "9+" : String(count), 16, 17);
  }
  favicon.href = canvas.toDataURL();
}

// --- sound: a tone for each new problem nobody silenced, higher the worse it is

let audio = null; // one for the page: browsers limit how many may exist

function beep(state) {
  audio = audio || new AudioContext();
  const tone = audio.createOscillator();
  tone.frequency.value = { down: 880, disconnected: 780, degraded: 590, late: 520 }[state] || 440;
  tone.connect(audio.destination);
  tone.start();
  tone.stop(audio.currentTime + 0.3);
}

// --- connection: never show stale state as if it were live

// since: when the server was last heard from (a silent link is found after the fact).
function setConnected(on, since = Date.now() / 1000) {
  if (on === connected) return;
  connected = on;
  if (!on) offlineSince = since;
  document.body.classList.toggle("stale", !on);
  showOffline();
  changed();
}

function showOffline() {
  setHidden(offline, connected);
  if (!connected) {
    const since = clock(offlineSince);
    setText(offline, `Disconnected from the server since ${since} (${M.duration(Date.now() / 1000 - offlineSince)}): what you see may be out of date. Reconnecting…`);
  }
}

function checkPreviews() {
  rooms.forEach((room) => {
    const url = room.preview;
    if (!url) return previews.delete(room.name);
    if (!/^https?:\/\//.test(url)) return previews.set(room.name, `Preview “${url}” is not an http(s) URL: the monitor wall shows nothing`);
    const image = new Image();
    image.onload = () => previews.get(room.name) && (previews.set(room.name, ""), changed());
    image.onerror = () => (previews.set(room.name, `Preview ${url} does not load`), changed());
    image.src = `${url}${url.includes("?") ? "&" : "?"}check=${Date.now()}`;
  });
}

const ops = connectFeed(feedUrl(null, "/ws/ops/"), {
  snapshot(message) {
    setServerTime(message.now);
    rooms = message.rooms;
    encoders.clear();
    message.encoders.forEach((r) => encoders.set(member(r), r));
    logs.clear();
    Object.entries(message.logs).forEach(([room, entries]) => logs.set(room, entries));
    sparks.clear();
    Object.entries(message.history).forEach(([key, points]) => sparks.set(key, points));
    reports.clear();
    Object.entries(message.reports).forEach(([room, total]) => {
      reports.set(room, { total, entries: [] });
      const view = roomViews.get(room);
      if (total && view && view.reportBox.open) ops.send({ type: "reports", room, offset: 0 });
    });
    audience = message.audience;
    roomStates = message.states || {};
    schedules = message.schedules;
    controls = message.controls;
    setup = message.setup;
    setConnected(true);
    checkPreviews();
    changed();
  },
  change(message) {
    if (message.type === "schedules") {
      schedules = message.data;
      changed();
    } else if (message.type === "rooms") {
      roomStates = message.data;
      (message.entries || []).forEach((entry) => {
        logs.set(entry.room, [entry, ...(logs.get(entry.room) || [])].slice(0, 50));
        const silent = M.silenceFor(silencesOf(), entry.room, "", now());
        if (entry.severity !== "ok" && sound.checked && !silent) beep(entry.severity === "critical" ? "down" : "degraded");
      });
      changed();
    } else if (message.type === "removed") {
      encoders.delete(`${message.room}/${message.name}`);
      changed();
    } else if (message.type === "control") {
      if (message.value === null) delete controls[message.field];
      else controls[message.field] = message.value;
      const { room, name } = message.entry;
      logs.set(room, [message.entry, ...(logs.get(room) || [])].slice(0, 50));
      changed(name ? `${room}/${name}` : undefined); // a room's silence shows on each of its rows
    } else if (message.type === "report") {
      // One client's reports merge into one (with a count): the newest replaces it.
      const room = message.report.room;
      const known = reports.get(room) || { total: 0, entries: [] };
      const others = known.entries.filter(([id]) => id !== message.id);
      const total = known.total + (others.length === known.entries.length ? 1 : 0);
      reports.set(room, { total, entries: [[message.id, message.report], ...others] });
      changed(room);
    } else if (message.type === "encoder") {
      const record = message.encoder;
      encoders.set(member(record), record);
      addSparkPoint(record);
      const transition = message.transition;
      if (transition) {
        logs.set(record.room, [transition, ...(logs.get(record.room) || [])].slice(0, 50));
        const silent = M.silenceFor(silencesOf(), record.room, record.name, now());
        if (transition.new !== "up" && sound.checked && !silent) beep(transition.new);
      }
      changed(member(record));
    }
  },
  figures(message) {
    // Unversioned, every few seconds when it changed: the newest is the audience.
    audience = message.data;
    rooms.forEach((room) => changed(room.name));
  },
  reply(message) {
    if (message.type === "refused") showRefused(message.message);
    else if (message.type === "reports") addReportPage(message);
  },
  status(text, since) {
    // "" comes when the socket opens; connected is only what a snapshot proves.
    // Disconnected since the server was last heard from, not since we noticed.
    if (text) setConnected(false, since / 1000);
  },
}, { pingSeconds: PING_SECONDS });

// What is on stage comes with the rooms on the viewers' feed.
connectFeed(feedUrl(null, "/ws/live/"), {
  snapshot(message) {
    message.rooms.forEach((room) => (onStage[room.name] = { now: room.now, next: room.next }));
    changed();
  },
  change(message) {
    if (message.type !== "room") return;
    onStage[message.room.name] = { now: message.room.now, next: message.room.next };
    changed();
  },
});

// Once a second the clocks count up; every REFRESH_SECONDS (and when a
// silence ends) everything is looked at again, for the ages in the texts.
// While disconnected only the banner's age grows: the rest is what was
// known when the link broke.
let refreshedAt = 0;
setInterval(() => {
  if (!connected) return showOffline();
  const t = now();
  const ending = Object.values(controls).some((value) => value.until && value.until > refreshedAt && value.until <= t);
  if (ending || t - refreshedAt >= REFRESH_SECONDS) {
    refreshedAt = t;
    return changed();
  }
  rowViews.forEach((view) => {
    const record = encoders.get(view.key);
    if (!record) return;
    setText(view.since, M.duration(t - record.since));
    setText(view.seen, M.ago(t - record.last_seen));
  });
}, 1000);
setInterval(checkPreviews, PREVIEW_CHECK_SECONDS * 1000);
changed();
