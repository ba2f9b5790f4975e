// A room's programme for the day, in the viewer's time. The talk on now is
// marked by the server's clock (ui.now) at each boundary, without a reload;
// the list is redrawn from the page's own <template> when the tracker says
// the schedule changed.
import { el, fromTemplate } from "../common/dom.js";
import { hourMinute } from "../common/clock.js";
import { connectLive } from "./live.js";
import { announce, fillTalk, now, onTick, reliveLink } from "./ui.js";

const name = document.body.dataset.room;
const list = document.getElementById("programme");
const LONGEST_WAIT = 60000; // look again at least this often (clock corrections, sleeping laptops)
let timer = null;

function localize() {
  list.querySelectorAll("time").forEach((node) => {
    node.textContent = hourMinute(new Date(node.getAttribute("datetime")));
  });
}

// Mark what is on now; sleep until the next start or end.
function mark() {
  const time = now();
  let boundary = Infinity;
  list.querySelectorAll("li[data-start]").forEach((item) => {
    const start = Date.parse(item.dataset.start);
    const end = Date.parse(item.dataset.end);
    const on = start <= time && time < end;
    if (on !== item.classList.contains("current")) {
      item.classList.toggle("current", on);
      if (on && !item.classList.contains("filler")) announce(`Now: ${item.querySelector(".title").textContent}`);
    }
    const relive = item.querySelector(".relive");
    if (relive) relive.hidden = end > time; // a recording once the talk ended
    if (on) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
    [start, end].forEach((moment) => moment > time && (boundary = Math.min(boundary, moment)));
  });
  clearTimeout(timer);
  timer = setTimeout(mark, Math.min(LONGEST_WAIT, Math.max(50, boundary - time + 20)));
}

function talkItem(talk) {
  const item = fillTalk(fromTemplate("programme-talk"), talk);
  item.className = talk.generated ? "filler" : "";
  item.classList.toggle("unavailable", talk.filler === "unavailable");
  Object.assign(item.dataset, { start: talk.start, end: talk.end });
  const [from, to] = item.querySelectorAll("time");
  from.setAttribute("datetime", talk.start);
  to.setAttribute("datetime", talk.end);
  const relive = item.querySelector(".relive");
  const url = reliveLink(list.dataset.relive, talk);
  if (url) Object.assign(relive, { href: url, hidden: true }).setAttribute("aria-label", "Watch again: " + talk.title);
  else relive.remove();
  return item;
}

function draw(schedule) {
  const items = schedule.day.map(talkItem);
  list.replaceChildren(...(items.length ? items : [el("li", { class: "filler" }, "No programme for this room.")]));
  localize();
  mark();
}

async function reload() {
  const response = await fetch(`/${encodeURIComponent(name)}/schedule.json`);
  if (response.ok) draw(await response.json());
}

localize();
mark();
onTick(mark); // the clock was set (a snapshot came) or a quarter minute passed
connectLive(
  () => {},
  (room) => {
    if (room === name) reload();
  },
);
