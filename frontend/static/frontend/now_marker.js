// The talk on now, marked by the server's clock (ui.now) at each start and end,
// without a reload: for a room's programme and for every room's. Items carry
// data-start and data-end; "watch again" shows once a talk has ended.
import { announce, now, onTick } from "./ui.js";

const LONGEST_WAIT = 60000; // look again at least this often (clock corrections, sleeping laptops)

export function markNow(container, selector) {
  let timer = null;
  function mark() {
    const time = now();
    let boundary = Infinity;
    const started = [];
    container.querySelectorAll(selector).forEach((item) => {
      const start = Date.parse(item.dataset.start);
      const end = Date.parse(item.dataset.end);
      const on = start <= time && time < end;
      if (on !== item.classList.contains("current")) {
        item.classList.toggle("current", on);
        if (on && !item.classList.contains("filler")) started.push(item.querySelector(".title").textContent);
      }
      const relive = item.querySelector(".relive");
      if (relive) relive.hidden = end > time; // a recording once the talk ended
      if (on) item.setAttribute("aria-current", "true");
      else item.removeAttribute("aria-current");
      [start, end].forEach((moment) => moment > time && (boundary = Math.min(boundary, moment)));
    });
    if (started.length) announce(`Now: ${started.join("; ")}`); // once, however many rooms moved
    clearTimeout(timer);
    timer = setTimeout(mark, Math.min(LONGEST_WAIT, Math.max(50, boundary - time + 20)));
  }
  mark();
  onTick(mark); // the clock was set (a snapshot came) or a quarter minute passed
  return mark;
}
