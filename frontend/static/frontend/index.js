// The index shows every configured room, live or not, with its state, the
// talk on now (with progress) and next, a still when live, and viewers.
"use strict";

(function () {
  // Stills refresh at most every 30 s here: many more people open this page than the monitor.
  document.querySelectorAll("img[data-preview]").forEach((img) => window.ui.watchPreview(img, 30));
  window.connectLive((rooms) => rooms.forEach((room) => window.ui.showRoom(room)));
})();
