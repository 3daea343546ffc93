// A WebSocket client that reconnects with back-off and parses JSON messages (and binary frames).

import { decodeBinary } from "./api.js";
import { flashNote } from "./notice.js";

// Close codes after which reconnecting cannot help: the session is unknown (4404) or expired (4410).
const FINAL_CLOSE_CODES = new Set([4404, 4410]);

/**
 * Connect to `path` (e.g. "/ws/networks/abc") on this server.
 * onMessage(data) receives each parsed message; onStatus(status, {reconnected}) gets "open", "closed" or
 * "reconnecting". Returns {send(obj), close()}; messages sent while disconnected are queued and flushed on
 * reconnect. After a lost connection (a server restart: the session comes back from the store) the stream
 * carries on by itself: a stream that was playing plays again, and a short "reconnected" note says so.
 *
 * With `binary: true` (a stream whose frames the page draws, app/live.py) the server sends frames as binary
 * messages (a JSON header and raw arrays, decoded by `decodeBinary`) and waits for the page to draw each one:
 * this client acknowledges a frame at the animation frame after it arrived, when the page has drawn it.
 */
export function connectSocket(path, { onMessage, onStatus = () => {}, maxDelay = 8000, binary = false } = {}) {
  const query = binary ? `${path.includes("?") ? "&" : "?"}frames=binary&ack=1` : "";
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}${query}`;
  let socket = null;
  let closed = false;
  let attempt = 0;
  let timer = null;
  let everOpened = false;
  let playing = false; // what the page last asked: resumed after a reconnect
  const queue = [];

  function open() {
    socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    const current = socket;
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
      if (data instanceof ArrayBuffer) {
        data = decodeBinary(data);
      } else {
        try { data = JSON.parse(event.data); } catch { /* leave as text */ }
      }
      onMessage && onMessage(data);
      if (binary && data && data.type === "frame") {
        // Drawn by then (the page draws in an animation frame too): the server may train the next one.
        requestAnimationFrame(() => { if (current.readyState === WebSocket.OPEN) current.send('{"type":"ack"}'); });
      }
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
