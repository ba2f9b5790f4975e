// The history pages: values on hover (and with the keyboard) for timelines and the chart.
// Every label is written by the server, in the event's time zone and human units.

for (const timeline of document.querySelectorAll(".timeline")) {
  const readout = document.getElementById(timeline.dataset.readout);
  const show = (event) => {
    const piece = event.target.closest(".piece");
    if (piece) readout.textContent = piece.dataset.label;
  };
  timeline.addEventListener("pointerover", show);
  timeline.addEventListener("focusin", show);
}

for (const figure of document.querySelectorAll(".chart")) {
  const svg = figure.querySelector("svg");
  const cursor = svg.querySelector(".cursor");
  const readout = document.getElementById(figure.dataset.readout);
  const points = [...svg.querySelectorAll("g[data-x]")].map((g) => ({ x: Number(g.dataset.x), label: g.dataset.label }));
  let current = -1;
  const pick = (index) => {
    if (!points.length) return;
    current = Math.max(0, Math.min(points.length - 1, index));
    const { x, label } = points[current];
    cursor.setAttribute("x1", x);
    cursor.setAttribute("x2", x);
    cursor.setAttribute("visibility", "visible");
    readout.textContent = label;
  };
  svg.addEventListener("pointermove", (event) => {
    const box = svg.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * 1000;
    let nearest = 0;
    points.forEach((point, index) => {
      if (Math.abs(point.x - x) < Math.abs(points[nearest].x - x)) nearest = index;
    });
    pick(nearest);
  });
  svg.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: -1, ArrowRight: 1, Home: -points.length, End: points.length };
    if (!(event.key in moves)) return;
    event.preventDefault();
    pick((current < 0 ? points.length - 1 : current) + moves[event.key]);
  });
}
