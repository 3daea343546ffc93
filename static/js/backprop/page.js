// The /backprop page: the walkthrough on the worked example, or on a copy of the session in ?session=<id>
// (the Playground and the course link here that way).
import { mountBackprop } from "./widget.js";

// ?network=<id> attaches to the session itself, where its walk stands.
const params = new URLSearchParams(window.location.search);
mountBackprop({ session: params.get("session"), network: params.get("network") });
