// The index lists the rooms that are live, in the configured order.
"use strict";

(function () {
  const list = document.getElementById("rooms");
  const empty = document.getElementById("no-rooms");

  window.connectLive((rooms) => {
    const items = [];
    rooms.forEach((room) => {
      if (!room.live) return;
      const item = document.createElement("li");
      item.dataset.room = room.name;
      const link = document.createElement("a");
      link.href = "/" + encodeURIComponent(room.name);
      link.textContent = room.title;
      item.append(link);
      items.push(item);
    });
    list.replaceChildren(...items);
    empty.hidden = items.length > 0;
  });
})();
