// A room's programme for a day, in the page's clock (common/clock.js). The
// talk on now is marked by the server's clock at each boundary, without a
// reload (now_marker.js); the list is redrawn from the page's own <template>
// when the tracker says the schedule changed.
import { el, fromTemplate } from "../common/dom.js";
import { showTimes } from "../common/clock.js";
import { connectLive } from "./live.js";
import { markNow } from "./now_marker.js";
import { fillTalk, recordingPage, reliveLink } from "./ui.js";

const name = document.body.dataset.room;
const list = document.getElementById("programme");

function talkItem(talk) {
  const item = fillTalk(fromTemplate("programme-talk"), talk);
  item.className = talk.generated ? "filler" : "";
  Object.assign(item.dataset, { start: talk.start, end: talk.end });
  const [from, to] = item.querySelectorAll("time");
  from.setAttribute("datetime", talk.start);
  to.setAttribute("datetime", talk.end);
  const relive = item.querySelector(".relive");
  const url = reliveLink(list.dataset.relive, talk) && recordingPage(name, talk);
  if (url) Object.assign(relive, { href: url, hidden: true }).setAttribute("aria-label", "Watch again: " + talk.title);
  else relive.remove();
  return item;
}

const mark = markNow(list, "li[data-start]");

async function reload() {
  const day = list.dataset.date ? "?day=" + encodeURIComponent(list.dataset.date) : "";
  const response = await fetch(`/${encodeURIComponent(name)}/schedule.json${day}`);
  if (!response.ok) return;
  const schedule = await response.json();
  const items = schedule.day.map(talkItem);
  list.replaceChildren(...(items.length ? items : [el("li", { class: "filler" }, "No programme for this room.")]));
  showTimes(list);
  mark();
}

connectLive(
  () => {},
  (room) => {
    if (room === name) reload();
  },
);
