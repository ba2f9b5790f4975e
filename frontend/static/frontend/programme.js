// A room's programme for the day, in the viewer's time, redrawn when the
// tracker says the schedule changed or a talk began or ended.
"use strict";

(function () {
  const name = document.body.dataset.room;
  const list = document.getElementById("programme");
  const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  let nowGuid = null;

  function localize() {
    list.querySelectorAll("time").forEach((node) => {
      node.textContent = clock.format(new Date(node.getAttribute("datetime")));
    });
  }

  function draw(schedule) {
    const { el, webUrl } = window.ui;
    const items = schedule.day.map((event) => {
      const url = event.generated ? "" : webUrl(event.url || "");
      const classes = [event.generated ? "filler" : "", schedule.now && schedule.now.guid === event.guid ? "current" : ""];
      return el("li", { className: classes.join(" ").trim() },
        el("time", { datetime: event.start }), "–", el("time", { datetime: event.end }), " ",
        el(url ? "a" : "span", { href: url || null }, event.title),
        event.speakers.length ? el("span", { className: "speakers" }, " " + event.speakers.join(", ")) : null);
    });
    list.replaceChildren(...(items.length ? items : [el("li", { className: "filler" }, "No programme for this room.")]));
    localize();
  }

  async function reload() {
    const response = await fetch(`/${encodeURIComponent(name)}/schedule.json`);
    if (response.ok) draw(await response.json());
  }

  localize();
  window.connectLive(
    (rooms) => {
      const room = rooms.get(name);
      const guid = room && room.now ? room.now.guid : null;
      if (guid !== nowGuid) {
        if (nowGuid !== null) reload();
        nowGuid = guid;
      }
    },
    (room) => {
      if (room === name) reload();
    },
  );
})();
