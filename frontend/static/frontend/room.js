// Room, embed and in-room pages: state, viewers and now/next follow the live
// feed; the player (where the page has one) follows the room's streams.
"use strict";

(function () {
  const name = document.body.dataset.room;
  const video = document.getElementById("video");
  let feed = null;
  const player = video && window.createPlayer({ name, report: (message) => feed && feed.send(message) });
  let wasLive = null;

  feed = window.connectLive((rooms) => {
    const room = rooms.get(name);
    if (!room) return;
    window.ui.showRoom(room);
    if (wasLive !== null && wasLive !== room.live) {
      window.ui.announce(room.live ? `${room.title} is live now` : `${room.title} went offline`);
    }
    wasLive = room.live;
    if (player) player.update(room);
  });
})();
