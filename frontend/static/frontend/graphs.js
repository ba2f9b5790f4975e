// Viewers and bandwidth per room, stacked, from the tracker's history API:
// tabs open on this site, players on the streaming servers, outgoing bandwidth.
// Drawn at the size the page gives each graph (so its words stay readable on
// a phone), with labelled axes, times in the page's clock, room titles in the
// legend, and the latest figures in a table; redrawn every step (10 s).
import { clockTime } from "../common/clock.js";
import "./ui.js"; // the header's clock switch and the page's times

const base = document.body.dataset.tracker || "";
const SVG = "http://www.w3.org/2000/svg";
const LEFT = 64; // room for the values on the y axis
const BOTTOM = 24; // and the times on the x axis
let range = 60;
let history = null;

const legendItems = [...document.querySelectorAll("#legend li[data-room]")];
const rooms = legendItems.map((item) => item.dataset.room);
const color = (index) => `hsl(${(index * 67) % 360} 65% 50%)`;
legendItems.forEach((item, index) => (item.querySelector(".swatch").style.background = color(index)));

const GRAPHS = [
  { id: "tabs", field: 4, unit: count, words: "viewers on this site" },
  { id: "clients", field: 1, unit: count, words: "players on the streaming servers" },
  { id: "bitrate", field: 3, unit: bandwidth, words: "outgoing bandwidth" },
];

function count(value) {
  return new Intl.NumberFormat(document.documentElement.lang || undefined, { maximumFractionDigits: 1 }).format(value);
}

function bandwidth(value) {
  if (value >= 1e9) return (value / 1e9).toFixed(1) + " Gbit/s";
  if (value >= 1e6) return (value / 1e6).toFixed(1) + " Mbit/s";
  return (value / 1e3).toFixed(0) + " kbit/s";
}

function node(tag, attributes, text) {
  const element = document.createElementNS(SVG, tag);
  Object.entries(attributes).forEach(([key, value]) => element.setAttribute(key, value));
  if (text !== undefined) element.textContent = text;
  return element;
}

// A round top for the y axis: 1, 2 or 5 times a power of ten, at least the highest total.
function niceTop(value) {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, value)));
  return [1, 2, 5, 10].map((step) => step * power).find((top) => top >= value);
}

// series: room -> [[t, clients, encoding bitrate, outgoing bandwidth, tabs], ...] on the same steps.
function draw(graph, series) {
  const svg = document.getElementById(graph.id);
  const width = Math.max(280, Math.round(svg.getBoundingClientRect().width));
  const height = Math.round(Math.min(300, Math.max(180, width * 0.4)));
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("height", height);
  const shown = rooms.filter((room) => series[room]);
  const times = [...new Set(shown.flatMap((room) => series[room].map((point) => point[0])))].sort((a, b) => a - b);
  const value = (room, t) => (series[room].find((point) => point[0] === t) || [])[graph.field] || 0;
  const totals = times.map((t) => shown.reduce((sum, room) => sum + value(room, t), 0));
  const top = niceTop(Math.max(1, ...totals));
  const end = Date.now() / 1000;
  const start = end - range * 60;
  const x = (t) => LEFT + ((t - start) / (end - start)) * (width - LEFT - 8);
  const y = (v) => height - BOTTOM - (v / top) * (height - BOTTOM - 12);
  const below = times.map(() => 0);
  const shapes = shown.map((room) => {
    const lower = below.slice();
    times.forEach((t, i) => (below[i] += value(room, t)));
    const upper = times.map((t, i) => `${x(t).toFixed(1)},${y(below[i]).toFixed(1)}`);
    const back = times.map((t, i) => `${x(t).toFixed(1)},${y(lower[i]).toFixed(1)}`).reverse();
    return node("polygon", { points: [...upper, ...back].join(" "), fill: color(rooms.indexOf(room)), "fill-opacity": "0.8" });
  });
  const axis = [0, top / 2, top].flatMap((v) => [
    node("line", { x1: LEFT, x2: width - 8, y1: y(v), y2: y(v), class: "grid" }),
    node("text", { x: LEFT - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" }, graph.unit(v)),
  ]);
  const ticks = width < 500 ? 3 : 5;
  const clock = Array.from({ length: ticks }, (_, i) => start + (i / (ticks - 1)) * (end - start)).map((t, i) =>
    node("text", { x: x(t), y: height - 6, class: "axis", "text-anchor": i === 0 ? "start" : i === ticks - 1 ? "end" : "middle" }, clockTime(t * 1000)),
  );
  svg.replaceChildren(...axis, ...shapes, ...clock);
  const latest = totals.length ? totals[totals.length - 1] : 0;
  svg.setAttribute("aria-label", `${graph.words[0].toUpperCase()}${graph.words.slice(1)} over the last ${range} minutes, stacked per room: ${graph.unit(latest)} now`);
}

// The latest figures per room, for reading them off exactly (and with a screen reader).
function table(series) {
  document.querySelectorAll("#figures tr[data-room]").forEach((row) => {
    const points = series[row.dataset.room] || [];
    const last = points[points.length - 1];
    const cells = row.querySelectorAll("td");
    GRAPHS.forEach((graph, index) => (cells[index].textContent = last ? graph.unit(last[graph.field]) : "–"));
  });
}

function redraw() {
  if (!history) return;
  GRAPHS.forEach((graph) => draw(graph, history.rooms));
  table(history.rooms);
}

async function refresh() {
  const response = await fetch(`${base}/tracker/api/history?range=${range}`);
  if (!response.ok) return;
  history = await response.json();
  redraw();
}

document.querySelectorAll("[data-range]").forEach((button) => {
  button.addEventListener("click", () => {
    range = Number(button.dataset.range);
    document.querySelectorAll("[data-range]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    refresh();
  });
});
new ResizeObserver(redraw).observe(document.getElementById("tabs"));
refresh();
setInterval(refresh, 10000);
