// A room's programme for the day, in the viewer's time. The talk on now is
// marked by the server's clock (ui.now) at each boundary, without a reload;
// the list is fetched again when the tracker says the schedule changed.
"use strict";

(function () {
  const { el, webUrl, reliveLink, now, announce, onTick } = window.ui;
  const name = document.body.dataset.room;
  const list = document.getElementById("programme");
  const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const LONGEST_WAIT = 60000; // look again at least this often (clock corrections, sleeping laptops)
  let timer = null;

  function localize() {
    list.querySelectorAll("time").forEach((node) => {
      node.textContent = clock.format(new Date(node.getAttribute("datetime")));
    });
  }

  // Mark what is on now; sleep until the next start or end.
  function mark() {
    const time = now();
    let boundary = Infinity;
    list.querySelectorAll("li[data-start]").forEach((item) => {
      const start = Date.parse(item.dataset.start);
      const end = Date.parse(item.dataset.end);
      const on = start <= time && time < end;
      if (on !== item.classList.contains("current")) {
        item.classList.toggle("current", on);
        if (on && !item.classList.contains("filler")) announce(`Now: ${item.querySelector(".title").textContent}`);
      }
      const relive = item.querySelector(".relive");
      if (relive) relive.hidden = end > time; // a recording once the talk ended
      if (on) item.setAttribute("aria-current", "true");
      else item.removeAttribute("aria-current");
      [start, end].forEach((moment) => moment > time && (boundary = Math.min(boundary, moment)));
    });
    clearTimeout(timer);
    timer = setTimeout(mark, Math.min(LONGEST_WAIT, Math.max(50, boundary - time + 20)));
  }

  function draw(schedule) {
    const items = schedule.day.map((event) => {
      const url = event.generated ? "" : webUrl(event.url || "");
      const relive = reliveLink(list.dataset.relive, event);
      return el("li", { className: event.generated ? "filler" : "", "data-start": event.start, "data-end": event.end },
        el("time", { datetime: event.start }), "–", el("time", { datetime: event.end }), " ",
        el(url ? "a" : "span", { className: "title", href: url || null }, event.title),
        event.speakers.length ? el("span", { className: "speakers" }, " " + event.speakers.join(", ")) : null,
        relive && el("a", { className: "relive", href: relive, hidden: true, "aria-label": "Watch again: " + event.title }, "Watch again"));
    });
    list.replaceChildren(...(items.length ? items : [el("li", { className: "filler" }, "No programme for this room.")]));
    localize();
    mark();
  }

  async function reload() {
    const response = await fetch(`/${encodeURIComponent(name)}/schedule.json`);
    if (response.ok) draw(await response.json());
  }

  localize();
  mark();
  onTick(mark); // the clock was set (a snapshot came) or a quarter minute passed
  window.connectLive(
    () => {},
    (room) => {
      if (room === name) reload();
    },
  );
})();
