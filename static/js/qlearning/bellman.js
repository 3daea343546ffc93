// The last Bellman update written out with its real numbers, every term labelled.
import { formatValue as fmt } from "../lib/format.js";
import { ACTIONS } from "./grid-view.js";

function term(testid, value, title) {
  const span = document.createElement("span");
  span.className = `term term-${testid}`;
  span.dataset.testid = `bellman-${testid}`;
  span.dataset.value = String(value);
  span.title = title;
  span.textContent = fmt(value);
  return span;
}

function line(className, ...parts) {
  const p = document.createElement("p");
  p.className = className;
  for (const part of parts) p.append(typeof part === "string" ? document.createTextNode(part) : part);
  return p;
}

const cell = ([r, c]) => `(${r}, ${c})`;

/** Fill `root` with update u (the API's BellmanUpdateInfo). */
export function renderBellman(root, u) {
  const sarsa = u.algorithm === "sarsa";
  const how = u.explored ? "random, ε" : "greedy";
  const moved = u.slipped ? `, slipped ${ACTIONS[u.moved]}` : "";
  const where = u.sent_to_start ? " (fell off the cliff: back to the start)" : u.done ? " (terminal)" : "";
  const boot = sarsa ? "Q(s′, a′)" : "maxₐ′ Q(s′, a′)";
  const bootWhat = u.done ? "0 because s′ is terminal"
    : sarsa ? `a′ = ${u.next_action_name}, the move SARSA takes next` : `a′ = ${u.next_action_name}, the best move from s′`;
  root.replaceChildren(
    line("bellman-move small", `s = ${cell(u.state)}, a = ${u.action_name} (${how}${moved}) → r = `,
      term("reward", u.reward, "r: the reward of this move"), `, s′ = ${cell(u.next_state)}${where}`),
    line("bellman-formula", `Q(s, a) ← Q(s, a) + α [r + γ · ${boot} − Q(s, a)]`),
    line("bellman-numbers", term("q-new", u.q_new, "the new Q(s, a)"), " = ",
      term("q-old", u.q_old, "Q(s, a) before"), " + ", term("alpha", u.alpha, "α, the learning rate"), " × [",
      term("reward-again", u.reward, "r"), " + ", term("gamma", u.gamma, "γ, the discount"), " × ",
      term("bootstrap", u.bootstrap, boot), " − ", term("q-old-again", u.q_old, "Q(s, a)"), "]"),
    line("bellman-detail small muted", `${boot} = ${fmt(u.bootstrap)}: ${bootWhat}. Target r + γ·${sarsa ? "Q" : "max"} = `,
      term("target", u.target, "r + γ · bootstrap"), ", TD error δ = target − Q(s, a) = ",
      term("td-error", u.td_error, "δ"), ", and α·δ = ", fmt(u.alpha * u.td_error), "."),
  );
  root.dataset.step = String(u.step);
}
