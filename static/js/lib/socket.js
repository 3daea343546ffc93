// A WebSocket client that reconnects with back-off and parses JSON messages.

import { flashNote } from "./notice.js";

// Close codes after which reconnecting cannot help: the session is unknown (4404) or expired (4410).
const FINAL_CLOSE_CODES = new Set([4404, 4410]);

/**
 * Connect to `path` (e.g. "/ws/networks/abc") on this server.
 * onMessage(data) receives each parsed message; onStatus(status, {reconnected}) gets "open", "closed" or
 * "reconnecting". Returns {send(obj), close()}; messages sent while disconnected are queued and flushed on
 * reconnect. After a lost connection (a server restart: the session comes back from the store) the stream
 * carries on by itself: a stream that was playing plays again, and a short "reconnected" note says so.
 */
export function connectSocket(path, { onMessage, onStatus = () => {}, maxDelay = 8000 } = {}) {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
  let socket = null;
  let closed = false;
  let attempt = 0;
  let timer = null;
  let everOpened = false;
  let playing = false; // what the page last asked: resumed after a reconnect
  const queue = [];

  function open() {
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      const reconnected = everOpened;
      everOpened = true;
      attempt = 0;
      onStatus("open", { reconnected });
      if (reconnected) {
        flashNote("Reconnected — training carries on from the saved state.");
        if (playing && !queue.some((text) => text.includes('"play"'))) socket.send(JSON.stringify({ type: "play" }));
      }
      while (queue.length) socket.send(queue.shift());
    });
    socket.addEventListener("message", (event) => {
      let data = event.data;
      try { data = JSON.parse(event.data); } catch { /* leave as text */ }
      onMessage && onMessage(data);
    });
    socket.addEventListener("close", (event) => {
      if (closed) return onStatus("closed");
      if (FINAL_CLOSE_CODES.has(event.code)) { closed = true; return onStatus("closed"); }
      onStatus("reconnecting");
      timer = setTimeout(open, reconnectDelay(attempt++, maxDelay));
    });
  }

  open();
  return {
    send(obj) {
      const text = typeof obj === "string" ? obj : JSON.stringify(obj);
      const type = typeof obj === "string" ? null : obj.type;
      if (type === "play") playing = true;
      else if (type === "pause" || type === "step") playing = false;
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(text);
      else queue.push(text);
    },
    close() {
      closed = true;
      clearTimeout(timer);
      if (socket) socket.close();
    },
    get readyState() { return socket ? socket.readyState : WebSocket.CLOSED; },
  };
}

/**
 * A live frame's `history` delta applied to the page's copy of the metrics history: keep the first `from`
 * entries, append `entries` (the server merges the deltas of frames it dropped, so none is lost).
 */
export function applyHistory(local, delta) {
  return delta ? local.slice(0, delta.from).concat(delta.entries) : local;
}

/** Exponential back-off: 250 ms, 500 ms, 1 s, … capped at maxDelay. */
export function reconnectDelay(attempt, maxDelay = 8000) {
  return Math.min(maxDelay, 250 * 2 ** attempt);
}
