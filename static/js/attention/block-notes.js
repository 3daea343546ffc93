// What each block of the architecture figure computes, in words, with this model's sizes.
import { layerTitle } from "./maps.js";

/** The attention kind (encoder, decoder, cross, self) a figure block stands for, or undefined. */
export const ATTENTION_OF_BLOCK = { "encoder-attention": "encoder", "decoder-attention": "decoder",
  "cross-attention": "cross", "self-attention": "self" };

/** The note for attention layer `layer` ({kind, layer, causal}) of `model` (the session's model description). */
export function attentionNote(model, layer) {
  const { d_model: d, heads } = model;
  return `${layerTitle(layer.kind, layer.layer)}: ${heads} head${heads > 1 ? "s" : ""}, each with `
    + `dₖ = ${d}/${heads} = ${d / heads}. ${layer.causal ? "Masked: a position sees itself and earlier ones. " : ""}`
    + `${layer.kind === "cross" ? "Queries from the decoder, keys and values from the encoder's output. " : ""}`
    + "Its maps are in the matrix and head views below.";
}

/** The note for any other block `kind` of the figure ("" for none). */
export function blockNote(kind, m) {
  const texts = {
    embedding: `Embedding: each of the ${m.tgt_vocab} tokens the `
      + `${m.arch === "encoder-decoder" ? "decoder" : "model"} reads is a learned vector of ${m.d_model} numbers, `
      + `multiplied by √${m.d_model}.`,
    "src-embedding": `Input embedding: each of the ${m.src_vocab} source tokens is a learned vector of `
      + `${m.d_model} numbers, multiplied by √${m.d_model}.`,
    positional: m.positional === "learned"
      ? `Positional encoding (learned): a trained vector of ${m.d_model} numbers per position (up to ${m.max_len}), `
        + "added to the token's vector so attention can tell positions apart."
      : `Positional encoding (sinusoidal): PE(pos, 2i) = sin(pos / 10000^(2i/${m.d_model})), PE(pos, 2i+1) = cos(…),`
        + " added to the token's vector.",
    "add-norm": `Add & Norm: the residual sum x + Sublayer(x), then LayerNorm over each token's ${m.d_model} `
      + "numbers (mean 0, variance 1, then a learned scale and shift).",
    norm: `Layer norm before the sublayer (pre-norm): each token's ${m.d_model} numbers to mean 0, variance 1.`,
    add: "Residual connection: the sublayer's output is added to its input, so information and gradients flow "
      + "straight through the stack.",
    "feed-forward": `Feed forward: ${m.d_model} → ${m.d_ff} → ${m.d_model} with ReLU, the same two dense layers `
      + "at every position.",
    linear: `Linear: ${m.d_model} → ${m.out_vocab} scores (logits) per position.`,
    softmax: "Softmax: the scores become probabilities; the answer shown is the most likely token (greedy "
      + "decoding).",
  };
  return texts[kind] || "";
}
