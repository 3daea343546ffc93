// The model's answer to one sequence: what each stack read, what it wrote (right or wrong), and the verdict.
import { el } from "../lib/dom.js";

const OUTPUT_LABEL = { seq2seq: "output", tagging: "output", generate: "answer", next: "next-token predictions",
  classify: "verdict" };
const ROW_TESTID = { src: "model-src", inputs: "model-inputs", output: "model-output-tokens" }; // test hooks

/** A labelled row of tokens; `stream` ("src", "inputs" or "output") is what the row shows. */
function tokenRow(label, tokens, stream, classes = []) {
  const list = el("div", { class: "tokens", "data-stream": stream, "data-testid": ROW_TESTID[stream] },
    tokens.map((t, i) => el("span", { class: `tok ${classes[i] || ""} ${t.startsWith("<") || t === "|" ? "special" : ""}`,
      "data-index": i, text: t })));
  return el("div", { class: "token-row" }, [el("span", { class: "row-label", text: label }), list]);
}

/** Fill `container` from a pass ({src_tokens, input_tokens, output, expected, correct}) of a task in `mode`. */
export function renderOutput(container, pass, mode, step) {
  const marks = pass.output.map((o, i) => {
    const e = pass.expected[i];
    return e === null || e === undefined ? "" : e === o ? "right" : "wrong";
  });
  const rows = [];
  if (pass.src_tokens) rows.push(tokenRow("encoder reads", pass.src_tokens, "src"));
  rows.push(tokenRow(mode === "seq2seq" ? "decoder reads" : "model reads", pass.input_tokens, "inputs"));
  rows.push(tokenRow(OUTPUT_LABEL[mode], pass.output, "output", marks));
  const defined = pass.expected.filter((e) => e !== null).length;
  const verdict = el("span", { class: `verdict ${pass.correct ? "right" : "wrong"}`, "data-testid": "model-verdict",
    text: defined === 0 ? "" : pass.correct ? "✓ right" : `✗ expected ${pass.expected.map((e) => e ?? "·").join(" ")}` });
  const note = el("span", { class: "tiny muted", text: `model at step ${step}` });
  container.replaceChildren(...rows, verdict, note);
}

/**
 * Light up a query and a key token in the rows (the hovered matrix cell), or none when `hover` is null.
 * `layer`: the attention layer's info ({queries, keys}: which stream each comes from).
 */
export function highlightTokens(container, layer, hover) {
  for (const token of container.querySelectorAll(".tok.hl")) token.classList.remove("hl");
  if (!hover || !layer) return;
  container.querySelector(`[data-stream="${layer.queries}"] [data-index="${hover.i}"]`)?.classList.add("hl");
  container.querySelector(`[data-stream="${layer.keys}"] [data-index="${hover.j}"]`)?.classList.add("hl");
}
