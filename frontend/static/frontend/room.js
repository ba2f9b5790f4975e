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

  function render() {
    const said = player ? player.update(latest) : latest.live ? "live" : "offline";
    const state = said === "offline" ? window.ui.roomState(latest) : said; // offline may be "starting soon"
    window.ui.showRoom(latest, state);
    if (shown !== null && shown !== state) window.ui.announce(ANNOUNCEMENTS[state](latest.title));
    shown = state;
  }

  const player = video && window.createPlayer({ name, report: (message) => feed && feed.send(message), changed: render });

  feed = window.connectLive((rooms) => {
    latest = rooms.get(name);
    if (latest) render();
  });
})();
