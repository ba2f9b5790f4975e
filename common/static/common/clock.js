// One clock for every page: the server's time (sent with each snapshot) plus
// an optional schedule offset (rehearsals replay a day at another time), so a
// browser whose own clock is wrong still times talks and durations right.

let skewMs = 0;

// serverSeconds: the server's Unix time from a snapshot; offsetSeconds: the
// schedule offset, 0 outside rehearsals.
export function setServerTime(serverSeconds, offsetSeconds = 0) {
  if (typeof serverSeconds !== "number") return;
  skewMs = serverSeconds * 1000 - Date.now() + (Number(offsetSeconds) || 0) * 1000;
}

// Milliseconds since the epoch, on the server's (and schedule's) clock.
export const nowMs = () => Date.now() + skewMs;

// One formatter for the site: toLocaleTimeString builds a new one per call,
// which showed in profiles. "14:45" in the viewer's own locale and time zone.
const HOUR_MINUTE = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
export const hourMinute = (date) => HOUR_MINUTE.format(date);

// The same in one zone (an IANA name such as "Europe/Berlin"), whatever the browser's:
// the dashboard shows every time in the event's zone.
export function hourMinuteIn(timeZone) {
  const format = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", timeZone: timeZone || undefined });
  return (date) => format.format(date);
}
