// The dashboard's decisions as pure functions: what comes first, how a
// figure reads. No DOM, no clock (callers pass `now`), so tests call them
// with plain data (tracker/ops/tests/test_dashboard_model.py).
// Worst first. "empty" is a room no encoder has reported for.
export const STATES = ["down", "disconnected", "degraded", "late", "up"];
const ROLES = ["collector", "mixer", "encoder", "endpoint"];
const PROBLEMS = new Set(["down", "disconnected", "degraded", "late"]);

function severity(state) {
  const index = STATES.indexOf(state);
  return index === -1 ? STATES.length : index;
}

function roleRank(role) {
  const index = ROLES.indexOf(role);
  return index === -1 ? ROLES.length : index;
}

// Worst state first; among problems of one state the oldest first (it has
// waited longest); healthy ones stay put in role and name order.
function compareEncoders(a, b) {
  return (
    severity(a.state) - severity(b.state) ||
    (PROBLEMS.has(a.state) ? a.since - b.since : 0) ||
    roleRank(a.role) - roleRank(b.role) ||
    a.name.localeCompare(b.name)
  );
}

export function worstState(records) {
  let worst = "empty";
  records.forEach((record) => {
    if (severity(record.state) < severity(worst)) worst = record.state;
  });
  return worst;
}

// Rooms whose schedule has a setup problem (a fetch error, or a schedule-key
// that matched nothing): schedules is the ops feed's room -> status.
export function scheduleTrouble(schedules) {
  return new Set(
    Object.entries(schedules || {})
      .filter(([, status]) => status.error || (status.events === 0 && status.names))
      .map(([name]) => name),
  );
}

// A room with a setup problem comes after the rooms with encoder problems and
// before the healthy ones, even with no encoder: its problem is shown with it.
const SETUP_PROBLEM = severity("late") + 0.5;

// A room's own state, judged by the server (tracker/live/room_state.py),
// worst first: the room is the unit of truth, its encoders' states sit under it.
export const ROOM_STATES = ["off-air-talk", "viewers-failing", "format-lost", "redundancy-lost", "no-encoders", "on-air", "off-air"];
// Rooms in these states are fine: on air, or quiet while nothing is scheduled.
const QUIET_ROOMS = new Set(["on-air", "off-air"]);
export const ROOM_LABELS = {
  "on-air": "on air",
  "redundancy-lost": "on air, redundancy lost",
  "format-lost": "on air, a format lost",
  "viewers-failing": "on air, viewers failing",
  "off-air-talk": "off air during a talk",
  "off-air": "off air",
  "no-encoders": "no encoders (setup)",
};

// Rooms with a problem by its weight; the fine ones (on air, quiet, not judged
// yet) all alike, then ordered by their worst encoder.
function roomRank(state) {
  return roomProblem(state) ? ROOM_STATES.indexOf(state) : ROOM_STATES.length;
}

export function roomProblem(state) {
  return ROOM_STATES.includes(state) && !QUIET_ROOMS.has(state);
}

// rooms: [{name, ...}] in config order; records: encoder records of any room;
// states: room -> the server's judgement ({state, ...}); troubled: names of
// rooms with a schedule setup problem (scheduleTrouble).
// Returns [{room, state, roomState, encoders}] worst room first (by the room's
// own state, then its worst encoder or setup problem), each room's encoders sorted.
export function orderRooms(rooms, records, states = {}, troubled = new Set()) {
  const grouped = new Map(rooms.map((room, index) => [room.name, { room, index, encoders: [] }]));
  records.forEach((record) => grouped.get(record.room)?.encoders.push(record));
  const entries = [...grouped.values()].map((entry) => {
    const encoders = entry.encoders.sort(compareEncoders);
    const judged = states[entry.room.name];
    return { ...entry, encoders, state: worstState(encoders), roomState: (judged && judged.state) || "unknown" };
  });
  entries.sort((a, b) => {
    const worstA = a.encoders[0];
    const worstB = b.encoders[0];
    const sinceA = worstA && PROBLEMS.has(worstA.state) ? worstA.since : Infinity;
    const sinceB = worstB && PROBLEMS.has(worstB.state) ? worstB.since : Infinity;
    const rank = (entry) => Math.min(severity(entry.state), troubled.has(entry.room.name) ? SETUP_PROBLEM : Infinity);
    return (
      roomRank(a.roomState) - roomRank(b.roomState) ||
      rank(a) - rank(b) ||
      (sinceA === sinceB ? 0 : sinceA - sinceB) ||
      a.index - b.index
    );
  });
  return entries.map(({ room, state, roomState, encoders }) => ({ room, state, roomState, encoders }));
}

// The room's state in words, with why ("c down", "no webm stream") and, when
// its viewers fail, the evidence: distinct clients (addresses), formats, errors.
export function roomStateText(judged) {
  if (!judged || !judged.state) return "not judged yet";
  const parts = [ROOM_LABELS[judged.state] || judged.state];
  if ((judged.reasons || []).length) parts.push(judged.reasons.join(", "));
  return parts.join(" — ");
}

export function failingText(viewers) {
  if (!viewers || !viewers.failing) return "";
  const head = `${plural(viewers.failing, "client")} failing of ${viewers.clients} reporting (distinct addresses)`;
  const seen = new Map();
  (viewers.evidence || []).forEach((e) => {
    const key = [e.format || "?", e.error || "no error given"].join(": ");
    seen.set(key, (seen.get(key) || 0) + 1);
  });
  return [head, ...[...seen].map(([key, n]) => `${key} (${n})`)].join(" · ");
}

// "4 s", "7 min 30 s", "2 h 5 min", "3 d 4 h": two units at most, whole numbers.
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  const minutes = Math.round(s / 60);
  if (minutes < 24 * 60) return minutes % 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes / 60} h`;
  const hours = Math.round(s / 3600);
  return hours % 24 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${hours / 24} d`;
}

export function ago(seconds) {
  return seconds < 1 ? "just now" : `${duration(seconds)} ago`;
}

// Bits per second: three significant figures at most, SI prefixes.
export function rate(bits) {
  const units = [
    [1e9, "Gbit/s"],
    [1e6, "Mbit/s"],
    [1e3, "kbit/s"],
  ];
  for (const [size, unit] of units) {
    if (bits >= size) {
      const value = bits / size;
      return `${value >= 100 ? Math.round(value) : Number(value.toPrecision(value >= 10 ? 3 : 2))} ${unit}`;
    }
  }
  return `${Math.round(bits)} bit/s`;
}

export function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

// What a stream does, in words. Outgoing bandwidth is the encoder's own
// figure when it sends one, else estimated as clients × bitrate (and said so).
export function streamText(stream) {
  const parts = [[stream.format, stream.quality].filter(Boolean).join(" ")];
  parts.push(plural(stream.clients || 0, "client"));
  const known = typeof stream.bitrate === "number"; // null: the server announced none, not 0
  parts.push(`encoding ${known ? rate(stream.bitrate) : "unknown"}`);
  if (typeof stream.bandwidth === "number") parts.push(`out ${rate(stream.bandwidth)}`);
  else if (stream.clients && known) parts.push(`out ≈ ${rate(stream.clients * stream.bitrate)}`);
  return parts.join(" · ");
}

// Viewer playback health says what it counts: tabs open on this site's room
// page, and those that reported a state (the streaming servers' own clients,
// external players included, are counted apart: streamingText).
export function playbackText(figures) {
  const viewers = (figures && figures.viewers) || 0;
  if (!viewers) return "no tabs on this site";
  const health = (figures && figures.health) || {};
  const reporting = Object.values(health).reduce((sum, n) => sum + n, 0);
  const head = `${plural(viewers, "tab")} on this site`;
  if (!reporting) return `${head} · no tab reports playback`;
  const states = ["playing", "buffering", "error", "paused"].filter((state) => health[state]);
  return `${head} · ${reporting} reporting: ${states.map((s) => `${health[s]} ${s}`).join(", ")}`;
}

// The streaming servers' clients of a room's live encoders (external players included).
export function streamingText(records) {
  const live = records.filter((r) => ["up", "degraded", "late"].includes(r.state));
  const clients = live.reduce((sum, r) => sum + ((r.totals && r.totals.clients) ?? (r.streams || []).reduce((s, x) => s + (x.clients || 0), 0)), 0);
  return live.length ? `${plural(clients, "client")} of the streaming servers` : "";
}

// counts: state -> number of encoders whose problem nobody acknowledged;
// rooms: room state -> number of rooms; acked: acknowledged problems, said
// apart. The title leads with the rooms' problems, then the encoders'.
export function titleText(counts, { connected = true, rooms = {}, acked = 0 } = {}) {
  if (!connected) return "(disconnected) Dashboard";
  const roomParts = ROOM_STATES.filter((state) => roomProblem(state) && rooms[state]).map((s) => `${rooms[s]} ${ROOM_LABELS[s]}`);
  const encoderParts = STATES.filter((state) => state !== "up" && counts[state]).map((s) => `${counts[s]} ${s}`);
  const parts = [roomParts.join(", "), encoderParts.join(", "), acked ? `${acked} acknowledged` : ""].filter(Boolean);
  return parts.length ? `(${parts.join("; ")}) Dashboard` : "Dashboard";
}

// What the title and favicon count: unacknowledged problems (rooms in a
// problem state, encoders with a problem nobody is on), and the acknowledged apart.
export function problemCounts(records, states, acks) {
  const counts = {};
  let acked = 0;
  records.forEach((r) => {
    if (!PROBLEMS.has(r.state)) return;
    if (acknowledged(acks[`${r.room}/${r.name}`], r)) acked += 1;
    else counts[r.state] = (counts[r.state] || 0) + 1;
  });
  const rooms = {};
  Object.values(states).forEach((judged) => roomProblem(judged.state) && (rooms[judged.state] = (rooms[judged.state] || 0) + 1));
  const open = Object.values(counts).reduce((a, b) => a + b, 0) + Object.values(rooms).reduce((a, b) => a + b, 0);
  return { counts, rooms, acked, open };
}

// An acknowledgement holds for the problem it was given for: the encoder's
// state since that moment. Any change of state asks again.
export function acknowledged(ack, record) {
  return Boolean(ack && record && ack.since === record.since && ack.state === record.state);
}

// The silence covering an encoder (its own or its room's), if any is running at `now`.
export function silenceFor(silences, room, name, now) {
  const own = silences[`${room}/${name}`];
  const whole = silences[room];
  return [own, whole].filter((s) => s && s.until > now).sort((a, b) => b.until - a.until)[0] || null;
}

// The filter box: which rooms and encoders a crew member follows. Every word
// must be found in the room's name or title or the encoder's name ("hall
// enc" finds hall-1's encoders); a room whose name or title has them all
// shows all its encoders. Returns {room, encoders}: whether the room shows,
// and the names of its encoders that do.
export function filterRoom(filter, room, records) {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const found = (...texts) => words.every((word) => texts.some((text) => (text || "").toLowerCase().includes(word)));
  const whole = found(room.name, room.title);
  const shown = records.filter((record) => whole || found(room.name, room.title, record.name)).map((r) => r.name);
  return { room: whole || shown.length > 0, encoders: shown };
}
