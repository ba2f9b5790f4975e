// The common player keys, as video sites have them (documented on the page by
// _player_keys.html): k or space play and pause, m mutes, f full screen, c
// subtitles. Not while typing, and space still presses a focused button or link.
import { announce } from "./ui.js";

export function playerKeys(video, { captions = null } = {}) {
  const screen = video.closest(".screen") || video;
  const actions = {
    k: () => {
      if (video.paused) video.play().catch(() => {});
      else video.pause();
      announce(video.paused ? "Paused" : "Playing");
    },
    m: () => {
      video.muted = !video.muted;
      announce(video.muted ? "Sound off" : "Sound on");
    },
    f: () => (document.fullscreenElement ? document.exitFullscreen() : screen.requestFullscreen()).catch(() => {}),
    c: () => captions && captions(),
  };
  actions[" "] = actions.k;
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const target = event.target instanceof Element ? event.target : document.body;
    if (target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === " " && target.closest("button, a, summary")) return;
    const action = actions[event.key.length === 1 ? event.key.toLowerCase() : ""];
    if (!action || video.closest("[hidden]")) return;
    event.preventDefault();
    action();
  });
}
