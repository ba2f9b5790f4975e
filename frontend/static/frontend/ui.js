// Helpers every page shares: building elements, announcing changes to screen
// readers, one clock (the server's, with the schedule offset), times in the
// viewer's own time zone, and the parts of a room that several pages show
// (state, viewer count, now/next with progress, preview still).
"use strict";

window.ui = (function () {
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    Object.entries(props).forEach(([key, value]) => {
      if (value === undefined || value === null || value === false) return;
      if (key in node) node[key] = value;
      else node.setAttribute(key, value);
    });
    node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
    return node;
  }

  // Once per change: the same words twice in a row are not news.
  function announce(text) {
    const region = document.getElementById("announce");
    if (region && region.textContent !== text) region.textContent = text;
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

  // The schedule's "now": the server's clock moved by its schedule offset
  // (rehearsals), so a browser with a wrong clock still times talks right.
  let skew = 0;
  function setClock(serverSeconds, offsetSeconds) {
    if (typeof serverSeconds !== "number") return;
    skew = serverSeconds * 1000 - Date.now() + (Number(offsetSeconds) || 0) * 1000;
    refresh();
  }
  const now = () => Date.now() + skew;

  const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  const SOON_MINUTES = 30;

  function timeText(kind, date) {
    const minutes = Math.round((date - now()) / 60000);
    if (kind === "ends") {
      if (minutes <= 0) return "ending now";
      return minutes < 60 ? "ends " + relative.format(minutes, "minute") : "ends at " + clock.format(date);
    }
    if (kind === "clock") return clock.format(date);
    return "starts at " + clock.format(date);
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
      node.textContent = timeText(node.dataset.kind, date);
      node.title = date.toLocaleString();
    });
    root.querySelectorAll("progress.talk").forEach(progress);
  }

  // live, soon (not live, a talk starts within half an hour) or offline.
  function roomState(room) {
    if (room.live) return "live";
    const starts = room.next ? Date.parse(room.next.start) : NaN;
    return starts - now() < SOON_MINUTES * 60000 && starts > now() ? "soon" : "offline";
  }

  function event(label, item) {
    const kind = label === "Now" ? "ends" : "starts";
    const url = webUrl(item.url || "");
    const title = el(url ? "a" : "span", { className: "title", href: url || null }, item.title);
    const speakers = (item.speakers || []).length ? [" ", el("span", { className: "speakers" }, item.speakers.join(", "))] : [];
    const time = el("time", { datetime: kind === "ends" ? item.end : item.start, "data-kind": kind });
    const bar =
      kind === "ends" &&
      el("progress", { className: "talk", max: 100, value: 0, "data-start": item.start, "data-end": item.end, "aria-label": "Talk progress" });
    return el("p", { className: "event" + (item.generated ? " filler" : "") },
      el("span", { className: "label" }, label), " ", title, ...speakers, " ", time, bar);
  }

  // A talk's recording link from the room's relive-url template (extras.py's relive_link).
  function reliveLink(template, talk) {
    if (!template || !talk || talk.generated) return "";
    const fields = { guid: talk.guid || "", id: talk.id || "" };
    if (Object.entries(fields).some(([key, value]) => template.includes(`{${key}}`) && !value)) return "";
    return webUrl(Object.entries(fields).reduce((url, [key, value]) => url.replaceAll(`{${key}}`, encodeURIComponent(value)), template));
  }

  function each(attribute, name, callback) {
    document.querySelectorAll(`[${attribute}="${CSS.escape(name)}"]`).forEach(callback);
  }

  // Viewer counts arrive on their own every few seconds: they touch nothing else
  // (the room's state on the page may be the player's, not the tracker's).
  function showViewers(room) {
    each("data-viewers", room.name, (node) => {
      node.hidden = typeof room.viewers !== "number";
      node.textContent = `${room.viewers} watching`;
    });
  }

  const STATES = { live: "Live", soon: "Starting soon", offline: "Offline", unknown: "Status unknown" };

  // Update every element showing this room's state, viewers, still, note or now/next.
  // `state` overrules the room's own when the page knows better.
  function showRoom(room, state = roomState(room)) {
    each("data-state", room.name, (node) => {
      node.textContent = STATES[state];
      node.className = "state " + state;
    });
    showViewers(room);
    each("data-still", room.name, (node) => {
      node.hidden = !room.live;
    });
    each("data-offline-note", room.name, (node) => {
      node.hidden = room.live;
      const time = el("time", { datetime: room.next ? room.next.start : "", "data-kind": "clock" });
      node.replaceChildren(...(room.next ? ["Not streaming right now. Next talk at ", time, "."] : ["Not streaming right now."]));
      localizeTimes(node);
    });
    if (!("now" in room) && !("next" in room)) return; // a tracker without schedules: keep the page's
    each("data-nownext", room.name, (node) => {
      node.replaceChildren(...nowNext(room));
      localizeTimes(node);
    });
  }

  function nowNext(room) {
    return [room.now && event("Now", room.now), room.next && event("Next", room.next)].filter(Boolean);
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
  function watchPreview(img, least = 2) {
    setInterval(() => reloadPreview(img), 1000 * Math.max(least, Number(img.dataset.interval) || 10));
  }

  // Pages with their own time-bound parts (the programme) listen here.
  const ticks = [];
  function refresh() {
    localizeTimes();
    ticks.forEach((tick) => tick());
  }
  function onTick(callback) {
    ticks.push(callback);
  }

  localizeTimes();
  setInterval(refresh, 15000);
  return { el, announce, webUrl, reliveLink, showRoom, showViewers, nowNext, roomState, setClock, now, onTick, localizeTimes, watchPreview };
})();
