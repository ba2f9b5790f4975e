// Room, embed and in-room pages: state, viewers and now/next follow the live
// feed; the player (where the page has one) follows the room's streams and
// may overrule "offline" while its media still plays.
"use strict";

(function () {
  const name = document.body.dataset.room;
  const video = document.getElementById("video");
  const ANNOUNCEMENTS = {
    live: (title) => `${title} is live now`,
    offline: (title) => `${title} went offline`,
    soon: (title) => `${title} went offline; a talk starts soon`,
    unknown: (title) => `${title}: status unknown, the stream is still playing`,
  };
  let feed = null;
  let latest = null;
  let shown = null;
  let onStage = undefined; // the talk on now, to list its recording when it ends

  // The talk on now changed: the one before ended, so its recording goes first in "watch again".
  function recorded(room) {
    const list = document.getElementById("recorded");
    const before = onStage;
    onStage = room.now || null;
    if (!list || before === undefined || !before || (room.now && room.now.guid === before.guid)) return;
    const url = window.ui.reliveLink(list.closest("[data-relive]").dataset.relive, before);
    if (!url) return;
    list.prepend(window.ui.el("li", {}, window.ui.el("a", { href: url }, before.title)));
    list.closest("section").hidden = false;
  }

  function render() {
    const said = player ? player.update(latest) : latest.live ? "live" : "offline";
    const state = said === "offline" ? window.ui.roomState(latest) : said; // offline may be "starting soon"
    window.ui.showRoom(latest, state);
    if ("now" in latest) recorded(latest);
    if (shown !== null && shown !== state) window.ui.announce(ANNOUNCEMENTS[state](latest.title));
    shown = state;
  }

  const player = video && window.createPlayer({ name, report: (message) => feed && feed.send(message), changed: render });

  feed = window.connectLive((rooms) => {
    latest = rooms.get(name);
    if (latest) render();
  });
})();
