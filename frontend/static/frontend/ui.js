// Helpers every page shares: building elements, announcing changes to screen
// readers, times in the viewer's own time zone, and the parts of a room that
// several pages show (state, viewer count, now/next).
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

  function announce(text) {
    const region = document.getElementById("announce");
    if (region) region.textContent = text;
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

  const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

  function timeText(kind, date) {
    const minutes = Math.round((date - Date.now()) / 60000);
    if (kind === "ends") {
      if (minutes <= 0) return "ending now";
      return minutes < 60 ? "ends " + relative.format(minutes, "minute") : "ends at " + clock.format(date);
    }
    return "starts at " + clock.format(date);
  }

  function localizeTimes(root = document) {
    root.querySelectorAll("time[data-kind]").forEach((node) => {
      const date = new Date(node.getAttribute("datetime"));
      if (Number.isNaN(date.getTime())) return;
      node.textContent = timeText(node.dataset.kind, date);
      node.title = date.toLocaleString();
    });
  }

  function event(label, item) {
    const kind = label === "Now" ? "ends" : "starts";
    const url = webUrl(item.url || "");
    const title = el(url ? "a" : "span", { className: "title", href: url || null }, item.title);
    const speakers = (item.speakers || []).length ? [" ", el("span", { className: "speakers" }, item.speakers.join(", "))] : [];
    const time = el("time", { datetime: kind === "ends" ? item.end : item.start, "data-kind": kind });
    return el("p", { className: "event" + (item.generated ? " filler" : "") },
      el("span", { className: "label" }, label), " ", title, ...speakers, " ", time);
  }

  function each(attribute, name, callback) {
    document.querySelectorAll(`[${attribute}="${CSS.escape(name)}"]`).forEach(callback);
  }

  const STATES = { live: "Live", offline: "Offline", unknown: "Status unknown" };

  // Update every element showing this room's state, viewers or now/next.
  // `state` overrules the room's own "live" when the page knows better.
  function showRoom(room, state = room.live ? "live" : "offline") {
    each("data-state", room.name, (node) => {
      node.textContent = STATES[state];
      node.className = "state " + state;
    });
    each("data-viewers", room.name, (node) => {
      node.hidden = typeof room.viewers !== "number";
      node.textContent = `${room.viewers} watching`;
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

  localizeTimes();
  setInterval(localizeTimes, 30000);
  return { el, announce, webUrl, showRoom, nowNext };
})();
