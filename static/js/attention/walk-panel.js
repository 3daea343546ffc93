// The "Inside one head" panel: its layer/head/query pickers, the full trace it shows (fetched again when
// training moved on or the sequence changed), and the stage it is at.
import { api, decodeArrays } from "../lib/api.js";
import { layerTitle } from "./maps.js";
import { renderWalk, STAGES } from "./qk-walk.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 450; // while training runs, fetch a fresh trace at most about twice a second

export class WalkPanel {
  /** `onSelect(id, head)`: the person picked a layer or head here (the page selects it everywhere). */
  constructor(onSelect, onError) {
    this.onError = onError;
    this.session = null;
    this.trace = null; // POST …/forward with trace=true, decoded, with the key of the sequence it is for
    this.shown = null; // the key of the sequence the page shows: a trace of another one is not drawn
    this.fetching = false;
    this.pass = null; // the latest pass the page drew (query tokens before the first trace arrives)
    this.walk = { id: null, head: 0, query: 0, stage: 0 };
    $("qk-layer").addEventListener("change", (e) => onSelect(e.target.value, 0));
    $("qk-head").addEventListener("change", (e) => onSelect(this.walk.id, Number(e.target.value)));
    $("qk-query").addEventListener("change", (e) => { this.walk.query = Number(e.target.value); this.render(); });
    $("qk-walk-next").addEventListener("click", () => this.toStage(this.walk.stage + 1));
    $("qk-walk-back").addEventListener("click", () => this.toStage(this.walk.stage - 1));
  }

  /** A new session: forget the trace and start at layer `id`, head 1, the first query, the first stage. */
  open(session, id) {
    this.session = session;
    this.trace = null;
    this.shown = null;
    this.pass = null;
    this.walk = { id, head: 0, query: 0, stage: 0 };
    this.fillPickers();
  }

  /** The same session with fresh weights (reset). */
  forget(session) {
    this.session = session;
    this.trace = null;
  }

  select(id, head) {
    this.walk = { ...this.walk, id, head };
    this.fillPickers();
  }

  toStage(n) {
    this.walk.stage = Math.max(0, Math.min(STAGES.length - 1, n));
    this.render();
  }

  /** A trace the page already has (the person's own sequence, run with trace=true). */
  show(trace, tokens) {
    this.shown = this.key(tokens);
    this.trace = { ...trace, key: this.shown };
    this.fillQueryPicker();
  }

  /** After each drawing of `pass`: fetch a fresh trace of `tokens` if training moved on or they changed. */
  update(pass, tokens, step, playing) {
    this.pass = pass;
    const key = this.key(tokens);
    this.shown = key;
    const stale = !this.trace || this.trace.step !== step || this.trace.key !== key;
    if (stale && !this.fetching && tokens) {
      this.fetching = true;
      const started = performance.now();
      const session = this.session;
      api(`/api/transformers/${session.id}/forward`, {
        method: "POST", query: { encoding: "base64" }, body: { tokens, trace: true },
      }).then((t) => {
        if (this.session === session) this.trace = { ...decodeArrays(t), key };
      }).catch(this.onError).finally(() => {
        const wait = playing ? Math.max(0, REFRESH_MS - (performance.now() - started)) : 0;
        setTimeout(() => { this.fetching = false; this.render(); }, wait);
      });
    }
    this.render();
  }

  key(tokens) {
    return `${this.session.id}|${(tokens || []).join(" ")}`;
  }

  fillPickers() {
    const info = this.session.attention;
    $("qk-layer").replaceChildren(...info.map((a) => new Option(layerTitle(a.kind, a.layer), a.id)));
    $("qk-layer").value = this.walk.id;
    const heads = info.find((a) => a.id === this.walk.id).heads;
    $("qk-head").replaceChildren(...Array.from({ length: heads }, (_, h) => new Option(`${h + 1}`, String(h))));
    $("qk-head").value = String(this.walk.head);
    this.fillQueryPicker();
  }

  fillQueryPicker() {
    const map = (this.trace || this.pass)?.attention.find((a) => a.id === this.walk.id);
    if (!map) return;
    const sel = $("qk-query");
    const labels = map.query_tokens.map((t, i) => `${i + 1}: ${t}`);
    this.walk.query = Math.min(this.walk.query, labels.length - 1);
    if ([...sel.options].map((o) => o.text).join() !== labels.join()) {
      sel.replaceChildren(...labels.map((t, i) => new Option(t, String(i))));
    }
    sel.value = String(this.walk.query);
  }

  /** Draw the current stage, if the trace is of the sequence the page shows. */
  render() {
    const trace = this.trace;
    if (!trace || trace.key !== this.shown) return;
    this.fillQueryPicker();
    renderWalk({ stages: $("qk-stages"), stage: $("qk-stage"), formula: $("qk-formula"), text: $("qk-text"),
      body: $("qk-body") }, trace, this.walk, this.walk.stage, (n) => this.toStage(n));
    $("qk-walk-next").disabled = this.walk.stage >= STAGES.length - 1;
    $("qk-walk-back").disabled = this.walk.stage <= 0;
  }
}
