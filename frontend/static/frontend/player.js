// The room's player. It picks what the browser can play (or what the viewer
// chose, remembered in localStorage), asks the tracker for the least-loaded
// endpoint, falls back to the next format when one will not play, and moves
// to another endpoint when the tracker reports the playing one gone.
"use strict";

// update(room) answers what the page should say about the room: "live",
// "offline", or "unknown" while the tracker says offline but media still
// arrives (the player believes the media, up to data-trust-media seconds);
// changed() is called when that answer changes on the player's own account.
window.createPlayer = function createPlayer({ name, report, changed = () => {} }) {
  const { el, announce } = window.ui;
  const base = document.body.dataset.tracker || "";
  const section = document.getElementById("player");
  const offline = document.getElementById("offline");
  const screen = document.getElementById("screen");
  const video = document.getElementById("video");
  const chooser = document.getElementById("chooser");
  const formatSelect = document.getElementById("format");
  const qualitySelect = document.getElementById("quality");
  const status = document.getElementById("playback");
  const directLink = document.getElementById("direct-link");

  const HLS_TYPE = "application/vnd.apple.mpegurl";
  const FORMATS = { hls: "HLS", webm: "WebM", mp4: "MP4", audio: "Audio", youtube: "YouTube" };
  const TYPES = { webm: "video/webm", mp4: "video/mp4" };
  const START_TIMEOUT = 20000; // no picture by then: try the next format
  const RETRY_AFTER = 10000; // nothing played: start over after this
  const STORAGE_KEY = "player-choice";
  const FLOWING_WITHIN = 3000; // the picture moved this recently: media is arriving
  const TRUST_MEDIA = 1000 * (Number(document.body.dataset.trustMedia) || 900);

  let room = null;
  let choice = loadChoice();
  let queue = [];
  let current = null; // {format, quality, url}
  let generation = 0; // bumps on every (re)start; stale async work checks it
  let hls = null;
  let hlsLoading = null;
  let timer = null;
  let idle = true; // nothing started yet, or stopped while the room was offline
  let exhausted = false; // every candidate failed; waiting to retry
  let streamsKey = "";
  let progressAt = -Infinity; // when the playing media last moved on
  let lastTime = 0;
  let doubtSince = null; // the tracker said offline while media was still arriving
  let doubtTimer = null;
  let distrusted = false; // media stopped or trust ran out: offline it is

  // Remembered per browser; storage may be refused (private mode).
  function loadChoice() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY)) || {};
      return { format: saved.format || "auto", quality: saved.quality || "auto" };
    } catch {
      return { format: "auto", quality: "auto" };
    }
  }

  function saveChoice() {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(choice));
    } catch {
      /* not remembered, still used */
    }
  }

  function label(item) {
    return [FORMATS[item.format] || item.format, (item.quality || "").toUpperCase()].filter(Boolean).join(" ");
  }

  function canPlay(format) {
    if (format === "hls") return video.canPlayType(HLS_TYPE) !== "" || "MediaSource" in window || "ManagedMediaSource" in window;
    if (TYPES[format]) return video.canPlayType(TYPES[format]) !== "";
    return format === "audio";
  }

  function youtubeId() {
    const id = room && room.info && room.info.youtube;
    return typeof id === "string" && /^[\w-]+$/.test(id) ? id : "";
  }

  function qualityOrder(qualities) {
    const wanted = choice.quality !== "auto" ? choice.quality : matchMedia("(max-width: 40rem)").matches ? "sd" : "hd";
    return [...qualities].sort((a, b) => (b === wanted) - (a === wanted) || (b === "hd") - (a === "hd"));
  }

  // What to try, in order: format by format, each in the preferred quality first.
  function candidates(first) {
    if (choice.format === "off") return [];
    const offered = [...new Set(room.live ? room.streams.map((stream) => stream.format) : [])];
    let formats = ["hls", "webm", "mp4", "audio"].filter((format) => offered.includes(format) && canPlay(format));
    if (youtubeId()) formats.unshift("youtube"); // configured to play instead of our streams
    if (choice.format === "audio") formats = formats.filter((format) => format === "audio");
    else if (choice.format !== "auto") formats.sort((a, b) => (b === choice.format) - (a === choice.format));
    const list = formats.flatMap((format) => {
      if (format === "youtube") return [{ format, quality: "" }];
      const qualities = new Set(room.streams.filter((s) => s.format === format).map((s) => s.quality || ""));
      return qualityOrder(qualities).map((quality) => ({ format, quality }));
    });
    if (first) list.sort((a, b) => (b.format === first.format && b.quality === first.quality) - (a.format === first.format && a.quality === first.quality));
    return list;
  }

  function setStatus(text, announceIt = false) {
    status.textContent = text;
    if (announceIt) announce(text);
  }

  function detach() {
    clearTimeout(timer);
    current = null;
    if (hls) hls.destroy();
    hls = null;
    const frame = screen.querySelector("iframe");
    if (frame) frame.remove();
    video.hidden = false;
    if (video.getAttribute("src")) {
      video.removeAttribute("src");
      video.load();
    }
  }

  function stop(text) {
    generation += 1;
    detach();
    setHealth(null);
    setStatus(text);
  }

  function start(first) {
    generation += 1;
    idle = false;
    exhausted = false;
    detach();
    queue = candidates(first);
    if (choice.format === "off") return setStatus("Video is off. Choose a format to watch.");
    if (!queue.length) return setStatus(choice.format === "audio" ? "No audio-only stream right now." : "Nothing this browser can play right now.");
    next(generation);
  }

  async function next(gen) {
    const item = queue.shift();
    if (!item) {
      exhausted = true;
      setHealth("error");
      setStatus("None of this room's streams would play. Trying again in a few seconds.", true);
      timer = setTimeout(() => gen === generation && start(), RETRY_AFTER);
      return;
    }
    if (item.format === "youtube") return showYoutube(item);
    let url = "";
    try {
      const query = new URLSearchParams({ format: item.format, quality: item.quality });
      const response = await fetch(`${base}/tracker/api/rooms/${encodeURIComponent(name)}/stream?${query}`);
      if (gen !== generation) return;
      if (response.status === 403) {
        const body = await response.json().catch(() => ({}));
        return stop(body.message || "This stream is not available from your network.");
      }
      if (response.ok) url = (await response.json()).url;
    } catch {
      // The tracker did not answer: play what the live feed listed.
      const stream = room.streams.find((s) => s.format === item.format && (s.quality || "") === item.quality);
      url = stream ? stream.url : "";
    }
    if (gen !== generation) return;
    if (!url) return next(gen);
    attach({ ...item, url }, gen);
  }

  function loadHls() {
    hlsLoading =
      hlsLoading ||
      new Promise((resolve) => {
        const script = el("script", { src: document.body.dataset.hls });
        script.onload = () => resolve(window.Hls);
        script.onerror = () => resolve(null);
        document.head.append(script);
      });
    return hlsLoading;
  }

  async function attach(item, gen) {
    detach();
    current = item;
    if (directLink) directLink.href = item.url;
    section.classList.toggle("audio-only", item.format === "audio");
    setStatus(`Starting ${label(item)}…`);
    timer = setTimeout(() => failed(gen), START_TIMEOUT);
    if (item.format === "hls" && video.canPlayType(HLS_TYPE) === "") {
      const Hls = await loadHls();
      if (gen !== generation) return;
      if (!Hls || !Hls.isSupported()) return failed(gen);
      hls = new Hls();
      hls.on(Hls.Events.ERROR, (_, data) => data.fatal && failed(gen));
      hls.loadSource(item.url);
      hls.attachMedia(video);
    } else {
      video.src = item.url;
    }
    video.play().catch(() => {}); // autoplay may be refused; the controls are there
  }

  function showYoutube(item) {
    current = { ...item, url: "" };
    video.hidden = true;
    const src = `https://www.youtube-nocookie.com/embed/${youtubeId()}?autoplay=1&mute=1`;
    screen.append(el("iframe", { src, title: "YouTube player", allow: "autoplay; fullscreen; picture-in-picture", allowFullscreen: true }));
    setStatus("Playing on YouTube (privacy-enhanced mode)");
  }

  function failed(gen) {
    if (gen !== generation || !current) return;
    const broken = current;
    setHealth("error");
    generation += 1;
    detach();
    const following = queue[0];
    setStatus(following ? `${label(broken)} would not play; trying ${label(following)}.` : `${label(broken)} would not play.`, true);
    next(generation);
  }

  // Playback health for operators: on changes (coalesced) and every 30 s.
  let health = null;
  let sentAt = 0;
  let pending = null;
  function setHealth(state) {
    if (state === health) return;
    health = state;
    clearTimeout(pending);
    if (state) pending = setTimeout(sendHealth, Math.max(0, sentAt + 2000 - Date.now()));
  }
  function sendHealth() {
    if (!health || !current || current.format === "youtube") return;
    sentAt = Date.now();
    report({ type: "health", state: health, format: current.format, quality: current.quality });
  }
  setInterval(() => Date.now() - sentAt >= 30000 && sendHealth(), 30000);

  video.addEventListener("playing", () => {
    if (!current) return;
    clearTimeout(timer);
    setHealth("playing");
    setStatus(`Playing ${label(current)}`);
  });
  video.addEventListener("waiting", () => current && setHealth("buffering"));
  video.addEventListener("pause", () => current && setHealth("paused"));
  video.addEventListener("error", () => current && failed(generation));

  // The chooser: without JavaScript there is nothing to choose, so it starts hidden.
  formatSelect.value = choice.format;
  qualitySelect.value = choice.quality;
  chooser.hidden = false;
  chooser.addEventListener("change", () => {
    choice = { format: formatSelect.value, quality: qualitySelect.value };
    saveChoice();
    if (room) start();
  });
  video.querySelectorAll("source").forEach((source) => source.remove()); // the no-JavaScript fallback
  video.removeAttribute("preload");

  video.addEventListener("timeupdate", () => {
    if (video.currentTime !== lastTime && !video.paused) progressAt = performance.now();
    lastTime = video.currentTime;
  });

  function flowing() {
    return Boolean(current) && current.format !== "youtube" && !video.paused && performance.now() - progressAt < FLOWING_WITHIN;
  }

  // While the tracker says offline but the picture still moves, keep playing
  // (the tracker may be the one in trouble) until the media stops or the
  // trust runs out; then the room is offline until it is live again.
  function believeMedia(watchable) {
    if (watchable) distrusted = false;
    if (watchable || distrusted || !flowing()) {
      clearInterval(doubtTimer);
      doubtSince = null;
      return false;
    }
    if (doubtSince === null) {
      doubtSince = performance.now();
      doubtTimer = setInterval(() => {
        if (flowing() && performance.now() - doubtSince < TRUST_MEDIA) return;
        distrusted = true;
        update(room);
        changed();
      }, 1000);
    }
    return true;
  }

  function update(latest) {
    room = latest;
    const watchable = room.live || Boolean(youtubeId());
    if (believeMedia(watchable)) return "unknown";
    section.hidden = !watchable;
    offline.hidden = watchable;
    const offered = new Set(room.streams.map((stream) => stream.format));
    formatSelect.querySelectorAll("option").forEach((option) => {
      const format = option.value;
      option.hidden = format === "youtube" ? !youtubeId() : format in FORMATS && !offered.has(format) && format !== choice.format;
    });
    if (!watchable) {
      if (!idle) stop("");
      idle = true;
      return "offline";
    }
    const key = room.streams.map((stream) => stream.url).join(" ");
    const streamsChanged = key !== streamsKey;
    streamsKey = key;
    if (current) {
      if (current.format === "youtube" || room.streams.some((stream) => stream.url === current.url)) return "live";
      setStatus("That stream server went away; switching to another.", true);
      start(current);
    } else if (idle || (exhausted && streamsChanged)) {
      start();
    }
    return "live";
  }

  return { update };
};
