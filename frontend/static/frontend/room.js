// Room, embed and in-room pages: state, viewers and now/next follow the live
// feed; the player (where the page has one) follows the room's streams and
// may overrule "offline" while its media still plays.
import { fromTemplate } from "../common/dom.js";
import { connectLive } from "./live.js";
import { createPlayer } from "./player.js";
import { playerKeys } from "./player_keys.js";
import { announce, recordingPage, reliveLink, roomState, showRoom } from "./ui.js";

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
  if (!list || !before || (room.now && room.now.guid === before.guid)) return;
  const url = reliveLink(list.closest("[data-relive]").dataset.relive, before) && recordingPage(name, before);
  if (!url) return;
  const item = fromTemplate("recorded-talk");
  Object.assign(item.querySelector("a"), { href: url, textContent: before.title });
  list.prepend(item);
  list.closest("section").hidden = false;
}

function render() {
  const said = player ? player.update(latest) : latest.live ? "live" : "offline";
  const state = said === "offline" ? roomState(latest) : said; // offline may be "starting soon"
  showRoom(latest, state);
  if ("now" in latest) recorded(latest);
  if (shown !== null && shown !== state) announce(ANNOUNCEMENTS[state](latest.title));
  shown = state;
}

if (video) playerKeys(video, { captions: () => document.getElementById("subtitles").hidden || document.getElementById("subtitles").click() });
const player = video && createPlayer({ name, report: (message) => Boolean(feed) && feed.send({ ...message, tab: feed.tab }), changed: render });

feed = connectLive((rooms) => {
  latest = rooms.get(name);
  if (latest) render();
});
