// The room page shows the player while the room is live and a slate while
// it is not, switching both ways as the tracker reports changes.
"use strict";

(function () {
  const name = document.body.dataset.room;
  const base = document.body.dataset.tracker || "";
  const state = document.getElementById("state");
  const player = document.getElementById("player");
  const video = document.getElementById("video");
  const directLink = document.getElementById("direct-link");
  const offline = document.getElementById("offline");
  const mimeTypes = {
    hls: "application/vnd.apple.mpegurl",
    webm: "video/webm",
    mp4: "video/mp4",
    audio: "audio/mpeg",
    dash: "application/dash+xml",
  };
  let playing = null;

  function playableFormat(room) {
    const formats = room.streams.map((stream) => stream.format);
    return formats.find((format) => video.canPlayType(mimeTypes[format] || "") !== "") || formats[0];
  }

  async function play(room) {
    const format = playableFormat(room);
    // The tracker picks the least loaded endpoint for this format.
    const response = await fetch(`${base}/tracker/api/rooms/${encodeURIComponent(name)}/stream?format=${format}`);
    if (!response.ok) return;
    const stream = await response.json();
    if (stream.url === playing) return;
    playing = stream.url;
    video.src = stream.url;
    directLink.href = stream.url;
  }

  function stop() {
    playing = null;
    video.removeAttribute("src");
    video.load();
  }

  window.connectLive((rooms) => {
    const room = rooms.get(name);
    if (!room) return;
    const urls = room.streams.map((stream) => stream.url);
    state.textContent = room.live ? "Live" : "Offline";
    state.className = "state " + (room.live ? "live" : "offline");
    player.hidden = !room.live;
    offline.hidden = room.live;
    if (!room.live) {
      stop();
    } else if (!urls.includes(playing)) {
      play(room);
    }
  });
})();
