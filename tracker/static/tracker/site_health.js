// The dashboard's banner for what no encoder row shows: a worker that is not
// running (nobody marks encoders late or down) or a Redis that would lose the
// state on a restart. Reads /readyz's warnings every few seconds.
import { setHidden, setText } from "../common/dom.js";

const banner = document.getElementById("site-warnings");
const offline = document.getElementById("offline"); // dashboard.js's banner for a lost socket
const EVERY_MS = 5000;

async function check() {
  try {
    const response = await fetch("/readyz", { cache: "no-store" });
    const body = await response.json();
    const warnings = Object.values(body.warnings || {});
    if (body.redis) warnings.push("Redis unreachable: the tracker cannot store heartbeats");
    setText(banner, warnings.join(" · "));
    setHidden(banner, warnings.length === 0);
  } catch (error) {
    // Said once: a server that does not answer has dropped the socket too, and that banner says since when.
    setText(banner, "This dashboard's server does not answer");
    setHidden(banner, !offline.hidden);
  }
  setTimeout(check, EVERY_MS);
}

check();
