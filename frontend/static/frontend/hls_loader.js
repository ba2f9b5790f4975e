// hls.js, from our own static files (<body data-hls>), loaded once per page
// and only when a player needs it: the room's player, the wall's tiles, a recording.
let loading = null;

// Resolves to window.Hls, or null when the script would not load.
export function loadHls() {
  loading =
    loading ||
    new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = document.body.dataset.hls;
      script.onload = () => resolve(window.Hls);
      script.onerror = () => resolve(null);
      document.head.append(script);
    });
  return loading;
}

export const HLS_TYPE = "application/vnd.apple.mpegurl";
