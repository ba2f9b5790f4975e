// Keeps a map of every room in sync with the tracker's live feed.
"use strict";

window.connectLive = function connectLive(onRooms) {
  const base = document.body.dataset.tracker;
  const status = document.getElementById("connection");
  const rooms = new Map();
  window.connectFeed(window.feedUrl(base, "/ws/live/"), {
    snapshot(message) {
      rooms.clear();
      message.rooms.forEach((room) => rooms.set(room.name, room));
      onRooms(rooms);
    },
    change(message) {
      rooms.set(message.room.name, message.room);
      onRooms(rooms);
    },
    status(text) {
      if (status) status.textContent = text;
    },
  });
};
