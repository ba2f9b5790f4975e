// The dashboard's line of planned maintenance: windows now and ahead, read every minute.
// Their times come as words from the server, in each room's (the event's) time zone.

const section = document.getElementById("maintenance");
const list = section.querySelector("ul");

async function refresh() {
  try {
    const answer = await fetch(section.dataset.source, { credentials: "same-origin" });
    if (!answer.ok) return;
    const { windows } = await answer.json();
    list.replaceChildren(
      ...windows.map((w) => {
        const item = document.createElement("li");
        const what = `${w.title}${w.encoder ? ` / ${w.encoder}` : ""}`;
        const when = w.now ? `now, until ${w.to_text}` : `${w.from_text} to ${w.to_text}`;
        item.textContent = `${what}: ${when}${w.reason ? ` (${w.reason})` : ""}`;
        item.classList.toggle("now", w.now);
        return item;
      }),
    );
    section.hidden = windows.length === 0;
  } catch {
    // The dashboard's own banner says when the site is unreachable.
  }
}

refresh();
setInterval(refresh, 60_000);
