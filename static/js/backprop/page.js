// The /backprop page: the walkthrough on the worked example, or on a copy of the session in ?session=<id>
// (the Playground and the course link here that way).
import { mountBackprop } from "./widget.js";

mountBackprop({ session: new URLSearchParams(window.location.search).get("session") });
