// The /lenet page: the LeNet component, starting on a random test digit.
import { mountLenet } from "./widget.js";

mountLenet({ session: new URLSearchParams(window.location.search).get("session") });
