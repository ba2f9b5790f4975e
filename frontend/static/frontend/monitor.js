// The monitor wall: every room with its preview, state, viewers and now/next,
// updating live; previews reload every N seconds without flicker (ui.js). A
// room added by a config reload gets a tile from the page's own <template>.
import { connectLive } from "./live.js";
import { roomFromTemplate, showRoom, watchPreview } from "./ui.js";

const wall = document.getElementById("wall");

wall.querySelectorAll("img[data-preview]").forEach((img) => watchPreview(img));

connectLive((rooms) => {
  rooms.forEach((room) => {
    let tile = wall.querySelector(`.tile[data-room="${CSS.escape(room.name)}"]`);
    if (!tile) {
      wall.append((tile = roomFromTemplate("tile", room)));
      tile.querySelectorAll("img[data-preview]").forEach((img) => watchPreview(img));
    }
    tile.classList.toggle("live", room.live);
    showRoom(room);
  });
});
