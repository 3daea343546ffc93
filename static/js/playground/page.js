// The /playground page: the Playground component in the state its URL hash carries, kept in step with it.
import { showError } from "../lib/api.js";
import { mountPlayground } from "./widget.js";

mountPlayground().catch((err) => showError(document.getElementById("error-banner"), err));
