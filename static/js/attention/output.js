// The model's answer to one sequence: what each stack read, what it wrote (right or wrong), and the verdict.

const OUTPUT_LABEL = { seq2seq: "output", tagging: "output", generate: "answer", next: "next-token predictions",
  classify: "verdict" };
const ROW_OF = { src: "model-src", inputs: "model-inputs" }; // token rows by the stream they show

function tokenRow(label, tokens, testid, classes = []) {
  const row = document.createElement("div");
  row.className = "token-row";
  const name = document.createElement("span");
  name.className = "row-label";
  name.textContent = label;
  const list = document.createElement("div");
  list.className = "tokens";
  list.setAttribute("data-testid", testid);
  tokens.forEach((t, i) => {
    const span = document.createElement("span");
    span.className = `tok ${classes[i] || ""}`;
    if (t.startsWith("<") || t === "|") span.classList.add("special");
    span.textContent = t;
    span.dataset.index = i;
    list.append(span);
  });
  row.append(name, list);
  return row;
}

/** Fill `container` from a pass ({src_tokens, input_tokens, output, expected, correct}) of a task in `mode`. */
export function renderOutput(container, pass, mode, step) {
  const marks = pass.output.map((o, i) => {
    const e = pass.expected[i];
    return e === null || e === undefined ? "" : e === o ? "right" : "wrong";
  });
  const rows = [];
  if (pass.src_tokens) rows.push(tokenRow("encoder reads", pass.src_tokens, "model-src"));
  rows.push(tokenRow(mode === "seq2seq" ? "decoder reads" : "model reads", pass.input_tokens, "model-inputs"));
  rows.push(tokenRow(OUTPUT_LABEL[mode], pass.output, "model-output-tokens", marks));
  const verdict = document.createElement("span");
  const defined = pass.expected.filter((e) => e !== null).length;
  verdict.className = `verdict ${pass.correct ? "right" : "wrong"}`;
  verdict.setAttribute("data-testid", "model-verdict");
  verdict.textContent = defined === 0 ? "" : pass.correct ? "✓ right" : `✗ expected ${pass.expected.map((e) => e ?? "·")
    .join(" ")}`;
  const note = document.createElement("span");
  note.className = "tiny muted";
  note.textContent = `model at step ${step}`;
  container.replaceChildren(...rows, verdict, note);
}

/**
 * Light up a query and a key token in the rows (the hovered matrix cell), or none when `hover` is null.
 * `layer`: the attention layer's info ({queries, keys}: which stream each comes from).
 */
export function highlightTokens(container, layer, hover) {
  for (const el of container.querySelectorAll(".tok.hl")) el.classList.remove("hl");
  if (!hover || !layer) return;
  container.querySelector(`[data-testid="${ROW_OF[layer.queries]}"] [data-index="${hover.i}"]`)?.classList.add("hl");
  container.querySelector(`[data-testid="${ROW_OF[layer.keys]}"] [data-index="${hover.j}"]`)?.classList.add("hl");
}
