// Stacked per-room clients and bandwidth from the tracker's history API,
// redrawn every step (10 s) so the graphs grow while the page is open.
const base = document.body.dataset.tracker || "";
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 800;
const HEIGHT = 240;
const PAD = 40;
let range = 60;

const color = (index) => `hsl(${(index * 67) % 360} 65% 50%)`;

function unit(value, kind) {
  if (kind === "bitrate") {
    if (value >= 1e9) return (value / 1e9).toFixed(1) + " Gbit/s";
    if (value >= 1e6) return (value / 1e6).toFixed(1) + " Mbit/s";
    return (value / 1e3).toFixed(0) + " kbit/s";
  }
  return String(Math.round(value));
}

function node(tag, attributes, text) {
  const element = document.createElementNS(SVG, tag);
  Object.entries(attributes).forEach(([key, value]) => element.setAttribute(key, value));
  if (text !== undefined) element.textContent = text;
  return element;
}

// series: room -> [[t, clients, encoding bitrate, outgoing bandwidth], ...] on the same steps.
function draw(svg, series, field, kind) {
  const rooms = Object.keys(series);
  const times = [...new Set(rooms.flatMap((room) => series[room].map((point) => point[0])))].sort((a, b) => a - b);
  const value = (room, t) => (series[room].find((point) => point[0] === t) || [t, 0, 0, 0])[field];
  const totals = times.map((t) => rooms.reduce((sum, room) => sum + value(room, t), 0));
  const top = Math.max(1, ...totals);
  const now = Date.now() / 1000;
  const x = (t) => PAD + ((t - (now - range * 60)) / (range * 60)) * (WIDTH - PAD);
  const y = (v) => HEIGHT - 20 - (v / top) * (HEIGHT - 30);
  const below = times.map(() => 0);
  const shapes = rooms.map((room, index) => {
    const lower = below.slice();
    times.forEach((t, i) => (below[i] += value(room, t)));
    const upper = times.map((t, i) => `${x(t).toFixed(1)},${y(below[i]).toFixed(1)}`);
    const back = times.map((t, i) => `${x(t).toFixed(1)},${y(lower[i]).toFixed(1)}`).reverse();
    return node("polygon", { points: [...upper, ...back].join(" "), fill: color(index), "fill-opacity": "0.75" });
  });
  svg.replaceChildren(
    ...shapes,
    node("text", { x: 2, y: 14, class: "axis" }, unit(top, kind)),
    node("text", { x: PAD, y: HEIGHT - 4, class: "axis" }, `${range} min ago`),
    node("text", { x: WIDTH - 30, y: HEIGHT - 4, class: "axis" }, "now"),
  );
}

function legend(rooms) {
  const list = document.getElementById("legend");
  list.replaceChildren(
    ...rooms.map((room, index) => {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = color(index);
      item.append(swatch, " ", room);
      return item;
    }),
  );
}

async function refresh() {
  const response = await fetch(`${base}/tracker/api/history?range=${range}`);
  if (!response.ok) return;
  const history = await response.json();
  draw(document.getElementById("clients"), history.rooms, 1, "clients");
  // "Outgoing bandwidth": what goes out to viewers, not what the streams are encoded at.
  draw(document.getElementById("bitrate"), history.rooms, 3, "bitrate");
  legend(Object.keys(history.rooms));
}

document.querySelectorAll("[data-range]").forEach((button) => {
  button.addEventListener("click", () => {
    range = Number(button.dataset.range);
    document.querySelectorAll("[data-range]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    refresh();
  });
});
refresh();
setInterval(refresh, 10000);
