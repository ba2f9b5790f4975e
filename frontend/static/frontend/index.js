// The index lists the rooms that are live, in the configured order, with
// what is on now and next.
"use strict";

(function () {
  const { el, nowNext } = window.ui;
  const list = document.getElementById("rooms");
  const empty = document.getElementById("no-rooms");

  window.connectLive((rooms) => {
    const items = [];
    rooms.forEach((room) => {
      if (!room.live) return;
      const link = el("a", { href: "/" + encodeURIComponent(room.name) }, room.title);
      const schedule = el("div", { className: "nownext", "data-nownext": room.name });
      const old = list.querySelector(`[data-nownext="${CSS.escape(room.name)}"]`);
      // Without schedule fields in the feed, keep what the server rendered.
      if ("now" in room || "next" in room) schedule.replaceChildren(...nowNext(room));
      else if (old) schedule.replaceChildren(...old.childNodes);
      items.push(el("li", { "data-room": room.name }, link, schedule));
    });
    list.replaceChildren(...items);
    empty.hidden = items.length > 0;
    rooms.forEach((room) => window.ui.showRoom(room));
  });
})();
