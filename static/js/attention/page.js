// The /attention page: the attention component on the task in the URL hash (#task=reverse), or the default.
import { mountAttention } from "./widget.js";

mountAttention({ task: new URLSearchParams(location.hash.replace(/^#/, "")).get("task"),
  session: new URLSearchParams(location.search).get("session") });
