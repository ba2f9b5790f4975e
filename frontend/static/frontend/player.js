// The room's player. It picks what the browser can play (or what the viewer
// chose, remembered in localStorage), asks the tracker for the least-loaded
// endpoint, and when a stream will not play it says so on the player itself,
// tries the room's other endpoints and formats, then retries with back-off.
// It moves to another endpoint when the tracker reports the playing one gone.
import { el } from "../common/dom.js";
import { HLS_TYPE, loadHls } from "./hls_loader.js";
import { announce } from "./ui.js";

// report(message) sends a message over the live socket (true when sent).
// update(room) answers what the page should say about the room: "live",
// "offline", or "unknown" while the tracker says offline but media still
// arrives (the player believes the media, up to data-trust-media seconds);
// changed() is called when that answer changes on the player's own account.
export function createPlayer({ name, report, changed = () => {} }) {
  const base = document.body.dataset.tracker || "";
  const $ = (id) => document.getElementById(id);
  const section = $("player");
  const offline = $("offline");
  const screen = $("screen");
  const video = $("video");
  const chooser = $("chooser");
  const formatSelect = $("format");
  const qualitySelect = $("quality");
  const status = $("playback");
  const directLinks = section.querySelectorAll("a.direct");
  const trouble = $("trouble");
  const troubleText = $("trouble-text");
  const unmute = $("unmute");
  const languageSelect = $("language");
  const subtitlesButton = $("subtitles");

  const FORMATS = { hls: "HLS", webm: "WebM", mp4: "MP4", audio: "Audio", youtube: "YouTube" };
  const TYPES = { webm: "video/webm", mp4: "video/mp4" };
  const START_TIMEOUT = 20000; // no picture by then: try the next candidate
  const RETRY_DELAYS = [5, 10, 20, 40, 60]; // seconds before starting over, growing per failed round
  const STORAGE_KEY = "player-choice";
  const FLOWING_WITHIN = 3000; // the picture moved this recently: media is arriving
  const TRUST_MEDIA = 1000 * (Number(document.body.dataset.trustMedia) || 900);

  let room = null;
  let choice = loadChoice();
  let queue = [];
  let failedUrls = new Set(); // endpoints that would not play in this round
  let current = null; // {format, quality, url}
  let wantsSound = null; // true or false once the viewer turned the sound on or off on this page
  let mutedByPlayer = video.muted;
  let lastTried = null; // what played or failed last, for the viewer's problem report
  let lastError = "";
  let generation = 0; // bumps on every (re)start; stale async work checks it
  let hls = null;
  let timer = null;
  let countdown = null;
  let rounds = 0; // failed rounds in a row, for the back-off
  let idle = true; // nothing started yet, or stopped while the room was offline
  let exhausted = false; // every candidate failed; waiting to retry
  let streamsKey = "";
  let progressAt = -Infinity; // when the playing media last moved on
  let lastTime = 0;
  let doubtSince = null; // the tracker said offline while media was still arriving
  let doubtTimer = null;
  let distrusted = false; // media stopped or trust ran out: offline it is
  let audioTracks = []; // the playing HLS stream's alternate audio renditions (hls.js)

  // Remembered per browser; storage may be refused (private mode).
  function loadChoice() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY)) || {};
      return { format: saved.format || "auto", quality: saved.quality || "auto", language: saved.language || "", subtitles: Boolean(saved.subtitles) };
    } catch {
      return { format: "auto", quality: "auto", language: "", subtitles: false };
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

  // The language whose streams play: the viewer's, where a translation has
  // streams of its own, else the room's own sound ("").
  function spoken() {
    return room.streams.some((s) => s.language && s.language === choice.language) ? choice.language : "";
  }

  function playable() {
    return room.streams.filter((s) => (s.language || "") === spoken());
  }

  function streamsOf(format, quality) {
    return playable().filter((s) => s.format === format && (s.quality || "") === quality);
  }

  function qualityOrder(qualities) {
    const wanted = choice.quality !== "auto" ? choice.quality : matchMedia("(max-width: 40rem)").matches ? "sd" : "hd";
    return [...qualities].sort((a, b) => (b === wanted) - (a === wanted) || (b === "hd") - (a === "hd"));
  }

  // What to try, in order: format by format, each in the preferred quality first.
  function candidates(first) {
    if (choice.format === "off") return [];
    const offered = [...new Set(room.live ? playable().map((stream) => stream.format) : [])];
    let formats = ["hls", "webm", "mp4", "audio"].filter((format) => offered.includes(format) && canPlay(format));
    if (youtubeId()) formats.unshift("youtube"); // configured to play instead of our streams
    if (choice.format === "audio") formats = formats.filter((format) => format === "audio");
    else if (choice.format !== "auto") formats.sort((a, b) => (b === choice.format) - (a === choice.format));
    const list = formats.flatMap((format) => {
      if (format === "youtube") return [{ format, quality: "" }];
      const qualities = new Set(playable().filter((s) => s.format === format).map((s) => s.quality || ""));
      return qualityOrder(qualities).map((quality) => ({ format, quality }));
    });
    const same = (item) => first && item.format === first.format && item.quality === first.quality;
    if (first) list.sort((a, b) => same(b) - same(a));
    return list;
  }

  function setStatus(text, announceIt = false) {
    status.textContent = text;
    if (announceIt) announce(text);
  }

  // The message on the player itself; actions only where they help.
  function showTrouble(text, { actions = false } = {}) {
    trouble.hidden = !text;
    troubleText.textContent = text;
    trouble.classList.toggle("with-actions", actions);
    const audio = room && room.streams.some((s) => s.format === "audio") && (!current || current.format !== "audio");
    $("try-audio").hidden = !actions || !audio || choice.format === "audio";
  }

  function detach() {
    audioTracks = [];
    clearTimeout(timer);
    clearInterval(countdown);
    current = null;
    if (hls) hls.destroy();
    hls = null;
    const frame = screen.querySelector("iframe");
    if (frame) frame.remove();
    video.hidden = false;
    unmute.hidden = true;
    if (video.getAttribute("src")) {
      video.removeAttribute("src");
      video.load();
    }
  }

  function stop(text) {
    generation += 1;
    detach();
    setHealth(null);
    showTrouble("");
    setStatus(text);
  }

  function start(first) {
    generation += 1;
    idle = false;
    exhausted = false;
    failedUrls = new Set();
    detach();
    queue = candidates(first);
    if (choice.format === "off") return stop("Video is off. Choose a format to watch.");
    if (!queue.length) {
      const text = choice.format === "audio" ? "No audio-only stream right now." : "Nothing this browser can play right now.";
      showTrouble(text, { actions: true });
      return setStatus(text);
    }
    next(generation);
  }

  // The tracker's least-loaded endpoint, or (when it failed already, or the
  // tracker does not answer) another endpoint of the room with this stream.
  async function endpoint(item, gen) {
    const others = () => (streamsOf(item.format, item.quality).find((s) => !failedUrls.has(s.url)) || {}).url || "";
    try {
      const query = new URLSearchParams({ format: item.format, quality: item.quality, language: spoken() });
      const response = await fetch(`${base}/tracker/api/rooms/${encodeURIComponent(name)}/stream?${query}`);
      if (gen !== generation) return null;
      if (response.status === 403) {
        const body = await response.json().catch(() => ({}));
        stop(body.message || "This stream is not available from your network.");
        return null;
      }
      const url = response.ok ? (await response.json()).url : "";
      return url && !failedUrls.has(url) ? url : others();
    } catch {
      return others();
    }
  }

  async function next(gen) {
    const item = queue.shift();
    if (!item) return giveUp(gen);
    if (item.format === "youtube") return showYoutube(item);
    const url = await endpoint(item, gen);
    if (gen !== generation || url === null) return;
    if (!url) return next(gen);
    attach({ ...item, url }, gen);
  }

  // Every candidate failed: say so on the player, offer what may still work,
  // and start over after a growing pause.
  function giveUp(gen) {
    exhausted = true;
    setHealth("error");
    let seconds = RETRY_DELAYS[Math.min(rounds, RETRY_DELAYS.length - 1)];
    rounds += 1;
    const text = () => `This stream will not play right now. Trying again in ${seconds} s.`;
    showTrouble(text(), { actions: true });
    // Said once until something plays again: the next rounds are not news.
    setStatus("None of this room's streams would play. Trying again shortly.", rounds === 1);
    countdown = setInterval(() => {
      seconds -= 1;
      if (gen !== generation) return clearInterval(countdown);
      if (seconds <= 0) {
        clearInterval(countdown);
        start();
      } else troubleText.textContent = text();
    }, 1000);
  }

  async function attach(item, gen) {
    detach();
    current = lastTried = item;
    directLinks.forEach((link) => {
      link.href = item.url;
      link.hidden = false;
      const hint = link.closest(".direct-hint");
      if (hint) hint.hidden = false;
    });
    section.classList.toggle("audio-only", item.format === "audio");
    setStatus(`Starting ${label(item)}…`);
    if (trouble.hidden || !trouble.classList.contains("with-actions")) showTrouble(`Starting ${label(item)}…`);
    timer = setTimeout(() => failed(gen, "no picture after 20 s"), START_TIMEOUT);
    // hls.js where the browser cannot play HLS itself, or cannot switch its
    // audio renditions (translations) when it does.
    const native = video.canPlayType(HLS_TYPE) !== "";
    const Hls = item.format === "hls" && !(native && "audioTracks" in video) ? await loadHls() : null;
    if (gen !== generation) return;
    if (item.format === "hls" && !native && !(Hls && Hls.isSupported())) return failed(gen, "hls.js unavailable");
    if (Hls && Hls.isSupported()) {
      hls = new Hls({ subtitleDisplay: choice.subtitles });
      hls.on(Hls.Events.ERROR, (_, data) => data.fatal && failed(gen, `hls.js: ${data.details}`));
      hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, (_, data) => {
        audioTracks = data.audioTracks.map((track) => track.lang || track.name);
        const wanted = audioTracks.indexOf(choice.language);
        if (wanted >= 0 && hls.audioTrack !== wanted) hls.audioTrack = wanted;
        offerLanguages();
      });
      hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, offerLanguages);
      hls.loadSource(item.url);
      hls.attachMedia(video);
    } else {
      video.src = item.url;
    }
    play(item);
  }

  // Video starts muted (browsers allow that) with an unmute button; audio
  // starts with sound when the browser allows it, muted with the button if not.
  // Once the viewer turned the sound on or off, every later start (another
  // format, another server mid-talk) keeps that, as far as the browser allows.
  function play(item) {
    setMuted(wantsSound === null ? item.format !== "audio" : !wantsSound);
    video.play().catch(() => {
      if (video.muted) return; // refused even muted: the controls are there
      setMuted(true);
      video.play().catch(() => {});
    });
  }

  // The player's own muting, told apart from the viewer's: a change of
  // `muted` that is not the one set here last came from the viewer (the
  // unmute button, the m key, the video's own controls).
  function setMuted(value) {
    mutedByPlayer = value;
    video.muted = value;
  }

  function showYoutube(item) {
    current = { ...item, url: "" };
    video.hidden = true;
    showTrouble("");
    const src = `https://www.youtube-nocookie.com/embed/${youtubeId()}?autoplay=1&mute=1`;
    screen.append(el("iframe", { src, title: "YouTube player", allow: "autoplay; fullscreen; picture-in-picture", allowFullscreen: true }));
    setStatus("Playing on YouTube (privacy-enhanced mode)");
  }

  function failed(gen, why) {
    if (gen !== generation || !current) return;
    const broken = current;
    lastError = why;
    failedUrls.add(broken.url);
    // Another endpoint with the same stream goes first.
    if (streamsOf(broken.format, broken.quality).some((s) => !failedUrls.has(s.url))) queue.unshift(broken);
    setHealth("error");
    generation += 1;
    detach();
    const following = queue[0];
    const text = following
      ? `${label(broken)} would not play; trying ${following === broken ? "another server" : label(following)}.`
      : `${label(broken)} would not play.`;
    // A fallback is news the first time round; without one, giveUp says it (once, not twice).
    setStatus(text, Boolean(following) && rounds === 0);
    if (following) showTrouble(text);
    next(generation);
  }

  // Playback health for operators: on changes (coalesced) and every 30 s.
  let health = null;
  let sentAt = 0;
  let pending = null;
  let failing = false; // an error since the last time anything played
  function setHealth(state) {
    // Retrying after an error buffers, then fails again: until something
    // plays, this player is failing, and says so (the room's "viewers failing").
    if (state === "error") failing = true;
    else if (state === "playing" || state === null) failing = false; // null: stopped, the room went off air
    else if (state === "buffering" && failing) state = "error";
    if (state === health) return;
    health = state;
    clearTimeout(pending);
    if (state) pending = setTimeout(sendHealth, Math.max(0, sentAt + 2000 - Date.now()));
  }
  function sendHealth() {
    // A failed attempt is detached at once: what it was is in lastTried.
    const item = current || lastTried;
    if (!health || !item || item.format === "youtube") return;
    sentAt = Date.now();
    // With an error, its words: the operators see which format fails and how.
    report({ type: "health", state: health, format: item.format, quality: item.quality, error: health === "error" ? lastError.slice(0, 300) : "" });
  }
  setInterval(() => Date.now() - sentAt >= 30000 && sendHealth(), 30000);

  video.addEventListener("playing", () => {
    if (!current) return;
    clearTimeout(timer);
    rounds = 0;
    lastError = "";
    setHealth("playing");
    showTrouble("");
    setStatus(`Playing ${label(current)}`);
    unmute.hidden = !video.muted;
  });
  video.addEventListener("volumechange", () => {
    unmute.hidden = !current || !video.muted;
    if (video.muted !== mutedByPlayer) wantsSound = !video.muted;
    mutedByPlayer = video.muted;
  });
  video.addEventListener("waiting", () => current && setHealth("buffering"));
  video.addEventListener("pause", () => current && setHealth("paused"));
  video.addEventListener("error", () => current && failed(generation, (video.error && video.error.message) || "media error"));
  video.addEventListener("timeupdate", () => {
    if (video.currentTime !== lastTime && !video.paused) progressAt = performance.now();
    lastTime = video.currentTime;
  });
  unmute.addEventListener("click", () => {
    video.muted = false;
    if (video.paused) video.play().catch(() => {});
  });
  $("try-again").addEventListener("click", () => room && start());
  $("try-audio").addEventListener("click", () => {
    choice = { ...choice, format: "audio" };
    formatSelect.value = "audio";
    saveChoice();
    if (room) start();
  });

  // The chooser: without JavaScript there is nothing to choose, so it starts hidden.
  formatSelect.value = choice.format;
  qualitySelect.value = choice.quality;
  chooser.hidden = false;
  chooser.addEventListener("change", () => {
    const before = { ...choice, spoken: room && spoken() };
    choice = { ...choice, format: formatSelect.value, quality: qualitySelect.value, language: languageSelect.value };
    saveChoice();
    if (!room) return;
    // Another language of the same stream: switch its audio, keep the picture going.
    const track = audioTracks.indexOf(choice.language);
    const same = before.format === choice.format && before.quality === choice.quality && before.spoken === spoken();
    if (hls && same && track >= 0) hls.audioTrack = track;
    else start();
  });
  subtitlesButton.addEventListener("click", () => {
    choice = { ...choice, subtitles: !choice.subtitles };
    saveChoice();
    showSubtitles();
  });
  video.textTracks.addEventListener("addtrack", showSubtitles);
  // The room's own WebVTT file, fetched (CORS) so it works from another origin without
  // making every stream server answer CORS for the video itself.
  if (video.dataset.subtitles) {
    fetch(video.dataset.subtitles)
      .then((response) => (response.ok ? response.text() : ""))
      .then((text) => {
        const src = text && URL.createObjectURL(new Blob([text], { type: "text/vtt" }));
        if (src) video.append(el("track", { kind: "captions", label: "Subtitles", src }));
      })
      .catch(() => {});
  }

  // Subtitles from the stream (hls.js makes them text tracks) or the room's own WebVTT file.
  function showSubtitles() {
    const tracks = [...video.textTracks].filter((track) => track.kind === "subtitles" || track.kind === "captions");
    subtitlesButton.hidden = tracks.length === 0;
    subtitlesButton.setAttribute("aria-pressed", String(choice.subtitles));
    const pick = tracks.find((track) => track.language && track.language === choice.language) || tracks[0];
    tracks.forEach((track) => (track.mode = choice.subtitles && track === pick ? "showing" : "disabled"));
    if (hls) hls.subtitleDisplay = choice.subtitles;
  }

  // The languages this room speaks: translations with streams of their own and the
  // playing stream's audio renditions; the viewer's choice stays listed.
  function offerLanguages() {
    const names = new Intl.DisplayNames(undefined, { type: "language", fallback: "code" });
    const named = (code) => { try { return names.of(code); } catch { return code; } };
    // A stream's own renditions are its languages; "Original" is the room's
    // untranslated streams beside separate translated ones.
    const streamLanguages = new Set(room.streams.map((s) => s.language || ""));
    const codes = new Set(audioTracks);
    if (streamLanguages.size > 1 || !audioTracks.length) streamLanguages.forEach((code) => codes.add(code));
    if (choice.language) codes.add(choice.language);
    if (!audioTracks.length) codes.add("");
    const options = [...codes].map((code) => el("option", { value: code }, code ? named(code) : "Original"));
    languageSelect.replaceChildren(...options);
    languageSelect.value = audioTracks.length && hls && !spoken() ? audioTracks[hls.audioTrack] || "" : choice.language;
    languageSelect.closest("label").hidden = codes.size < 2;
  }
  video.querySelectorAll("source").forEach((source) => source.remove()); // the no-JavaScript fallback
  video.removeAttribute("preload");

  // Only what the room really has (and the viewer's own choice, to keep it visible).
  // Disabled as well as hidden: typing a letter on the chooser picks a hidden option.
  function offerChoices() {
    const formats = new Set(room.streams.map((stream) => stream.format));
    const qualities = new Set(playable().filter((s) => s.format !== "audio").map((s) => s.quality || ""));
    const offer = (option, offered) => (option.hidden = option.disabled = !offered);
    formatSelect.querySelectorAll("option").forEach((option) => {
      const format = option.value;
      offer(option, format === "youtube" ? youtubeId() : !(format in FORMATS) || formats.has(format) || format === choice.format);
    });
    qualitySelect.querySelectorAll("option").forEach((option) => {
      offer(option, option.value === "auto" || qualities.has(option.value) || option.value === choice.quality);
    });
    qualitySelect.closest("label").hidden = qualities.size < 2 && choice.quality === "auto";
    offerLanguages();
  }

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
    const words = room.state === "off-air-talk" ? "interrupted" : "offline";
    offline.querySelectorAll("[data-interrupted]").forEach((line) => (line.textContent = line.dataset[words]));
    offerChoices();
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

  // "Report a problem": what the viewer says, with what the player tried, to
  // the operators over the live socket. The tracker takes one per socket per
  // 10 s; the button waits as long, so nothing the viewer writes is dropped.
  const REPORT_PAUSE = 10000;
  const REPORT_LIMITS = { format: 16, endpoint: 2048, error: 300, browser: 300, text: 1000 }; // the tracker's
  const reportBox = $("report");
  const reportSend = $("report-send");
  const reportStatus = $("report-status");
  reportBox.hidden = false;
  $("report-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const item = current || lastTried;
    const fields = {
      format: item ? label(item) : "",
      endpoint: item ? item.url : "",
      error: lastError || (trouble.hidden ? "" : troubleText.textContent),
      browser: navigator.userAgent,
      text: $("report-text").value.trim(),
    };
    Object.keys(fields).forEach((key) => (fields[key] = fields[key].slice(0, REPORT_LIMITS[key])));
    if (!report({ type: "report", room: name, ...fields })) {
      reportStatus.textContent = "Not sent: the page is reconnecting to the live feed. Please try again in a moment.";
      return;
    }
    $("report-text").value = "";
    reportStatus.textContent = "Sent to the operators. Thank you!";
    reportSend.disabled = true;
    setTimeout(() => (reportSend.disabled = false), REPORT_PAUSE);
  });

  return { update };
}
