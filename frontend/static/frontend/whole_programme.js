// Every room's programme for a day: times in the page's clock (common/clock.js,
// set on load), the talks on now marked by the server's clock at each boundary
// without a reload. A changed schedule reloads the page at the next quiet moment:
// the grid is the server's layout, not redrawn here.
import { connectLive } from "./live.js";
import { markNow } from "./now_marker.js";

const grid = document.getElementById("fahrplan");
if (grid) markNow(grid, ".talk[data-start]");

connectLive(
  () => {},
  () => {
    // Not while the viewer is reading with the keyboard or a screen reader: they would lose their place.
    if (!grid || !grid.contains(document.activeElement)) location.reload();
  },
);
