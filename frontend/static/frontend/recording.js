// A talk's recording, played here: HLS with hls.js where the browser cannot
// play it itself (seeking, the playlist's qualities and audio languages), a
// file natively; the player keys; an honest word when it will not play.
import { el } from "../common/dom.js";
import { HLS_TYPE, loadHls } from "./hls_loader.js";
import { playerKeys } from "./player_keys.js";
import "./ui.js"; // the page's times in its clock

const section = document.getElementById("player");
const video = document.getElementById("video");
const chooser = document.getElementById("chooser");
const languageSelect = document.getElementById("language");
const qualitySelect = document.getElementById("quality");
const subtitlesButton = document.getElementById("subtitles");
const LANGUAGES = new Intl.DisplayNames([document.documentElement.lang || "en"], { type: "language" });

function named(code) {
  try {
    return LANGUAGES.of(code) || code;
  } catch {
    return code;
  }
}

function trouble(text) {
  document.getElementById("trouble-text").textContent = text;
  document.getElementById("trouble").hidden = false;
  document.getElementById("trouble").classList.add("with-actions");
}

// A choice with more than one option is offered; one option is no choice.
function offer(select, options, chosen) {
  select.replaceChildren(...options.map(([value, label]) => el("option", { value }, label)));
  select.value = String(chosen);
  select.closest("label").hidden = options.length < 2;
  chooser.hidden = [...chooser.querySelectorAll("label, button")].every((node) => node.hidden);
}

function showSubtitles() {
  const tracks = [...video.textTracks].filter((track) => track.kind === "subtitles" || track.kind === "captions");
  subtitlesButton.hidden = tracks.length === 0;
  chooser.hidden = [...chooser.querySelectorAll("label, button")].every((node) => node.hidden);
  return tracks;
}

function toggleSubtitles() {
  const tracks = showSubtitles();
  if (!tracks.length) return;
  const on = subtitlesButton.getAttribute("aria-pressed") !== "true";
  tracks.forEach((track, index) => (track.mode = on && index === 0 ? "showing" : "disabled"));
  subtitlesButton.setAttribute("aria-pressed", String(on));
}

async function start() {
  const url = section.dataset.url;
  video.addEventListener("error", () => trouble("This recording will not play in this browser."));
  // hls.js unless the browser plays HLS itself and can switch its audio languages (as player.js).
  if (section.dataset.format !== "hls" || (video.canPlayType(HLS_TYPE) !== "" && "audioTracks" in video)) {
    if (section.dataset.format === "hls") video.src = url;
    return;
  }
  const Hls = await loadHls();
  if (!Hls || !Hls.isSupported()) return trouble("This browser cannot play this recording here.");
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_, data) => data.fatal && trouble("The recording stopped loading."));
  hls.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
    const levels = data.levels.map((level, index) => [String(index), level.height ? `${level.height}p` : `Level ${index + 1}`]);
    offer(qualitySelect, [["-1", "Automatic"], ...levels], -1);
  });
  hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, (_, data) => {
    const tracks = data.audioTracks.map((track, index) => [String(index), named(track.lang || track.name)]);
    offer(languageSelect, tracks, Math.max(0, hls.audioTrack));
  });
  hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, showSubtitles);
  languageSelect.addEventListener("change", () => (hls.audioTrack = Number(languageSelect.value)));
  qualitySelect.addEventListener("change", () => (hls.currentLevel = Number(qualitySelect.value)));
  hls.loadSource(url);
  hls.attachMedia(video);
}

if (video) {
  subtitlesButton.addEventListener("click", toggleSubtitles);
  video.textTracks.addEventListener("addtrack", showSubtitles);
  playerKeys(video, { captions: toggleSubtitles });
  start();
}
