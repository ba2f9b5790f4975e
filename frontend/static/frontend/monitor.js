// The monitor wall: every room with its preview, state, viewers and now/next,
// updating live; previews reload every N seconds without flicker (ui.js).
"use strict";

(function () {
  const { el, webUrl, showRoom, watchPreview } = window.ui;
  const wall = document.getElementById("wall");

  function tile(room) {
    const preview = webUrl((room.info && room.info.preview) || "");
    const img = preview && el("img", { src: preview, alt: "Preview of " + room.title, "data-preview": preview });
    if (img) {
      img.dataset.interval = (room.info && room.info["preview-interval"]) || 10;
      watchPreview(img);
    }
    return el("li", { className: "tile", "data-room": room.name },
      el("div", { className: "preview" }, img),
      el("h2", {}, room.title),
      el("p", { className: "status-line" },
        el("span", { className: "state", "data-state": room.name }), " ",
        el("span", { className: "viewers", "data-viewers": room.name, hidden: true })),
      el("div", { className: "nownext", "data-nownext": room.name }));
  }

  wall.querySelectorAll("img[data-preview]").forEach(watchPreview);

  window.connectLive((rooms) => {
    rooms.forEach((room) => {
      let item = wall.querySelector(`[data-room="${CSS.escape(room.name)}"]`);
      if (!item) wall.append((item = tile(room)));
      item.classList.toggle("live", room.live);
      showRoom(room);
    });
  });
})();
