// The index shows every configured room, live or not, with its state, the
// talk on now (with progress) and next, a still when live, and viewers. A room
// added by a config reload gets a card from the page's own <template>; a room
// removed loses its card.
import { connectLive } from "./live.js";
import { roomFromTemplate, showRoom, watchPreview } from "./ui.js";

const list = document.getElementById("rooms");
// Stills refresh at most every 30 s here: many more people open this page than the monitor.
const STILL_SECONDS = 30;

list.querySelectorAll("img[data-preview]").forEach((img) => watchPreview(img, STILL_SECONDS));

connectLive((rooms) => {
  list.querySelectorAll(".room-card").forEach((card) => rooms.has(card.dataset.room) || card.remove());
  rooms.forEach((room) => {
    if (!list.querySelector(`.room-card[data-room="${CSS.escape(room.name)}"]`)) {
      const card = roomFromTemplate("room-card", room);
      list.append(card);
      card.querySelectorAll("img[data-preview]").forEach((img) => watchPreview(img, STILL_SECONDS));
    }
    showRoom(room);
  });
  const empty = list.querySelector(".empty");
  if (empty) empty.hidden = rooms.size > 0;
});
