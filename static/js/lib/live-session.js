// One training session on the server at a time, streamed over its WebSocket: what every "train from scratch"
// panel does with it — open the stream and play, send controls, and end it (close the stream, delete the session).
import { api } from "./api.js";
import { connectSocket } from "./socket.js";

/**
 * onMessage(data) gets each message of the stream; onEnded() is called when the server closes a stream this
 * side did not end (the session expired or was deleted elsewhere).
 * Returns {open(socketPath, sessionPath), send(message), toggle(playing), end(), closeStream()}.
 */
export function createLiveSession({ onMessage, onEnded }) {
  let socket = null;
  let sessionPath = null;

  return {
    /** Stream the session at `sessionPath` (its REST resource, deleted by end(); null for a session this page
     *  did not create, which end() leaves alone) over `socketPath`, playing unless `play` is false. */
    open(socketPath, path, { play = true } = {}) {
      sessionPath = path;
      socket = connectSocket(socketPath, {
        onMessage,
        onStatus: (status) => { if (status === "closed" && socket) onEnded(); },
      });
      if (play) socket.send({ type: "play" });
    },

    /** A control message ({type: "pause" | "play" | "config", …}); dropped when no stream is open. */
    send(message) {
      if (socket) socket.send(message);
    },

    /** The pause / resume button: pause a stream that is `playing`, else play; false when no stream is open. */
    toggle(playing) {
      if (!socket) return false;
      socket.send({ type: playing ? "pause" : "play" });
      return true;
    },

    /** Close the stream and delete the session (a session already gone is fine). */
    async end() {
      if (socket) {
        const s = socket;
        socket = null;
        s.close();
      }
      if (sessionPath) {
        const path = sessionPath;
        sessionPath = null;
        try { await api(path, { method: "DELETE" }); } catch { /* already gone */ }
      }
    },

    /** Close the stream only (the page is going away; the session expires on the server by itself). */
    closeStream() {
      if (socket) socket.close();
    },
  };
}

/**
 * A panel's start button: on a click, with the button disabled, `start()` (which ends the panel's session, if
 * any, and opens a new one); a failure goes to onError(message); the button then reads "Start again".
 */
export function bindStartButton(button, start, onError) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await start();
    } catch (err) {
      onError(err.message);
    } finally {
      button.disabled = false;
      button.textContent = "Start again";
    }
  });
}
