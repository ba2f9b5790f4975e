// The operators' dashboard: every encoder's health, live from /ws/ops/.
"use strict";

(function () {
  const ROLES = ["collector", "mixer", "encoder", "endpoint"];
  const SPARK_SECONDS = 600;
  const SPARK_STEP = 10;
  const container = document.getElementById("rooms");
  const summary = document.getElementById("summary");
  const connection = document.getElementById("connection");
  const sound = document.getElementById("sound");
  const favicon = document.getElementById("favicon");

  let rooms = [];
  const encoders = new Map(); // "room/name" -> record
  const logs = new Map(); // room -> transitions, newest first
  const sparks = new Map(); // "room/name" -> [[t, clients, bitrate], ...]
  let audience = {}; // room -> {viewers, health: {playing, buffering, error, paused}}
  let schedules = {}; // room -> {events, ok_at, error, error_at}
  const onStage = {}; // room -> {now, next}: the talks, from the viewers' feed
  const openLogs = new Set(); // rooms whose transition log the operator opened
  let clockOffset = 0; // server time minus browser time, in seconds

  sound.checked = localStorage.getItem("dashboard-sound") === "on";
  sound.addEventListener("change", () => localStorage.setItem("dashboard-sound", sound.checked ? "on" : "off"));

  const now = () => Date.now() / 1000 + clockOffset;
  const member = (record) => `${record.room}/${record.name}`;

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs).forEach(([key, value]) => node.setAttribute(key, value));
    node.append(...children);
    return node;
  }

  function bitrate(bits) {
    if (bits >= 1e6) return `${(bits / 1e6).toFixed(1)} Mbit/s`;
    if (bits >= 1e3) return `${(bits / 1e3).toFixed(0)} kbit/s`;
    return `${bits} bit/s`;
  }

  function ago(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 120) return `${seconds} s ago`;
    if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
    return `${Math.round(seconds / 3600)} h ago`;
  }

  function metricsText(metrics) {
    const parts = [];
    if (metrics.cpu !== undefined) parts.push(`cpu ${Math.round(metrics.cpu)}%`);
    if (metrics.memory !== undefined) parts.push(`mem ${Math.round(metrics.memory)}%`);
    if (metrics.dropped_frames !== undefined) parts.push(`dropped ${metrics.dropped_frames}`);
    if (metrics.silence !== undefined) parts.push(`silence ${metrics.silence} s`);
    if (metrics.audio_level !== undefined) parts.push(`audio ${metrics.audio_level} dB`);
    if (metrics.uptime !== undefined) parts.push(`up ${ago(metrics.uptime).replace(" ago", "")}`);
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

  // Outgoing bandwidth, streams counted but not offered (legacy FLV, loop) and other reported figures.
  function countedText(record) {
    const parts = [];
    if (record.totals && record.totals.bandwidth) parts.push(`out ${bitrate(record.totals.bandwidth)}`);
    (record.counted || []).forEach((c) => parts.push(`${c.name}: ${c.clients} clients, not offered (${c.why})`));
    Object.entries(record.stats || {}).forEach(([key, value]) => parts.push(`${key} ${value}`));
    return parts.join(" · ");
  }

  function row(record) {
    const streams = record.streams || [];
    const clients = record.totals ? record.totals.clients : streams.reduce((sum, s) => sum + s.clients, 0);
    const bits = streams.reduce((sum, s) => sum + s.bitrate, 0);
    const state = el("td", { class: "state" }, el("span", { class: "badge" }, record.state));
    if (record.reason) state.append(" ", el("small", {}, record.reason));
    return el(
      "tr",
      { "data-encoder": record.name, class: `state-${record.state}` },
      el("th", { scope: "row" }, record.name),
      el("td", {}, record.role),
      state,
      el("td", { class: "seen", "data-seen": record.last_seen }, ago(now() - record.last_seen)),
      el("td", { class: "num" }, String(clients)),
      el("td", { class: "num" }, bitrate(bits)),
      el("td", { class: "metrics" }, [metricsText(record.metrics || {}), countedText(record)].filter(Boolean).join(" · ")),
      el("td", {}, sparkline(sparks.get(member(record)) || [])),
    );
  }

  function logList(room) {
    const entries = (logs.get(room) || []).slice(0, 20);
    const list = el("ol", { class: "log" });
    entries.forEach((t) => {
      const when = new Date(t.at * 1000).toLocaleTimeString();
      list.append(el("li", {}, `${when} ${t.name}: ${t.old || "new"} → ${t.new} (${t.reason})`));
    });
    // The grid is redrawn on every change: remember which logs the operator opened.
    const details = el("details", openLogs.has(room) ? { open: "" } : {}, el("summary", {}, `Log (${entries.length})`), list);
    details.addEventListener("toggle", () => (details.open ? openLogs.add(room) : openLogs.delete(room)));
    return details;
  }

  function render() {
    const sections = rooms.map((room) => {
      const members = [...encoders.values()]
        .filter((r) => r.room === room.name)
        .sort((a, b) => ROLES.indexOf(a.role) - ROLES.indexOf(b.role) || a.name.localeCompare(b.name));
      const table = el(
        "table",
        {},
        el("thead", {}, el("tr", {}, ...["Encoder", "Role", "State", "Last seen", "Clients", "Bitrate", "Metrics", "Last 10 min"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, ...members.map(row)),
      );
      const body = members.length ? table : el("p", { class: "empty" }, "No encoder has reported here yet.");
      const heading = el("h2", {}, room.title, " ", el("small", { class: "audience" }, audienceText(audience[room.name])));
      const schedule = scheduleText(schedules[room.name]);
      const warning = schedule ? el("p", { class: "schedule-error", role: "alert" }, schedule) : "";
      const talks = el("p", { class: "nownext" }, talksText(onStage[room.name]));
      return el("section", { class: "room", "data-room": room.name }, heading, talks, warning, body, logList(room.name));
    });
    container.replaceChildren(...sections);
    announce();
  }

  function audienceText(figures) {
    if (!figures || !figures.viewers) return "no viewers";
    const health = figures.health || {};
    const reported = Object.values(health).reduce((sum, n) => sum + n, 0);
    const parts = [`${figures.viewers} viewer${figures.viewers === 1 ? "" : "s"}`];
    ["buffering", "error"].forEach((state) => {
      if (reported && health[state]) parts.push(`${Math.round((health[state] / reported) * 100)}% ${state}`);
    });
    return parts.join(" · ");
  }

  function talksText(stage) {
    if (!stage || (!stage.now && !stage.next)) return "";
    const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const parts = [];
    if (stage.now) parts.push(`Now: ${stage.now.title} (until ${clock(stage.now.end)})`);
    if (stage.next) parts.push(`Next: ${stage.next.title} (${clock(stage.next.start)})`);
    return parts.join(" · ");
  }

  function scheduleText(status) {
    if (!status || !status.error) return "";
    const age = ago(now() - status.error_at);
    const kept = status.ok_at ? `; showing the schedule from ${ago(now() - status.ok_at)}` : "";
    return `Schedule problem ${age}: ${status.error}${kept}`;
  }

  function announce() {
    const counts = {};
    encoders.forEach((r) => (counts[r.state] = (counts[r.state] || 0) + 1));
    const down = counts.down || 0;
    document.title = down ? `(${down} down) Dashboard` : "Dashboard";
    summary.textContent = ["up", "degraded", "late", "disconnected", "down"]
      .filter((s) => counts[s])
      .map((s) => `${counts[s]} ${s}`)
      .join(", ") || "No encoders yet";
    drawFavicon(down);
  }

  function drawFavicon(down) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 32;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = down ? "#c62828" : "#2e7d32";
    ctx.beginPath();
    ctx.arc(16, 16, 16, 0, 2 * Math.PI);
    ctx.fill();
    if (down) {
      ctx.fillStyle = "#fff";
      ctx.font = "bold 20px sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(down > 9 ? "9+" : String(down), 16, 17);
    }
    favicon.href = canvas.toDataURL();
  }

  let audio = null; // one for the page: browsers limit how many may exist

  function beep() {
    audio = audio || new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.3);
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

  window.connectFeed(window.feedUrl(null, "/ws/ops/"), {
    snapshot(message) {
      clockOffset = message.now - Date.now() / 1000;
      rooms = message.rooms;
      encoders.clear();
      message.encoders.forEach((r) => encoders.set(member(r), r));
      logs.clear();
      Object.entries(message.logs).forEach(([room, entries]) => logs.set(room, entries));
      sparks.clear();
      Object.entries(message.history).forEach(([key, points]) => sparks.set(key, points));
      audience = message.audience;
      schedules = message.schedules;
      render();
    },
    change(message) {
      if (message.type === "audience") {
        audience = message.data;
        render();
        return;
      }
      if (message.type === "removed") {
        encoders.delete(`${message.room}/${message.name}`);
        render();
        return;
      }
      if (message.type === "schedules") {
        schedules = message.data;
        render();
        return;
      }
      const record = message.encoder;
      encoders.set(member(record), record);
      addSparkPoint(record);
      const transition = message.transition;
      if (transition) {
        logs.set(record.room, [transition, ...(logs.get(record.room) || [])].slice(0, 50));
        if (transition.new === "down" && sound.checked) beep();
      }
      render();
    },
    status(text) {
      connection.textContent = text;
    },
  });

  // What is on stage comes with the rooms on the viewers' feed.
  window.connectFeed(window.feedUrl(null, "/ws/live/"), {
    snapshot(message) {
      message.rooms.forEach((room) => (onStage[room.name] = { now: room.now, next: room.next }));
      render();
    },
    change(message) {
      if (message.type !== "room") return;
      onStage[message.room.name] = { now: message.room.now, next: message.room.next };
      render();
    },
  });

  // "Last seen" counts up between messages.
  setInterval(() => {
    document.querySelectorAll("td.seen").forEach((cell) => {
      cell.textContent = ago(now() - Number(cell.dataset.seen));
    });
  }, 1000);
})();
