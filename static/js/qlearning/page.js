// The Q-learning page: a grid-world session (/api/rl/gridworlds, live over /ws/rl/gridworlds/{id}) and a
// Q-network agent playing catch (/api/rl/agents, live over /ws/rl/agents/{id}).
import { api, showError } from "../lib/api.js";
import { formatPercent, formatValue } from "../lib/format.js";
import { drawLegend } from "../lib/heatmap.js";
import { connectSocket } from "../lib/socket.js";
import { renderBellman } from "./bellman.js";
import { drawBoard, drawQBars } from "./catch-view.js";
import { drawEpisodeCurve } from "./curves.js";
import { drawValues, GridView } from "./grid-view.js";
import { applyTool, resize } from "./layout.js";

const $ = (id) => document.getElementById(id);
const errorBox = $("ql-error");
const fail = (err) => showError(errorBox, err);
const MAX_EPISODES_KEPT = 4000;

// --- the grid world -----------------------------------------------------------------------------------------

const grid = {
  session: null,
  socket: null,
  playing: false,
  history: [], // EpisodeRecord[], by episode
  tool: "wall",
  presets: {},
};

const view = new GridView($("grid"), $("ql-tooltip"), { onCell: (r, c) => editCell(r, c).catch(fail) });

async function createGrid(preset) {
  fail(null);
  const old = grid.session;
  const state = await api("/api/rl/gridworlds", { method: "POST", body: { preset } });
  if (old) api(`/api/rl/gridworlds/${old.id}`, { method: "DELETE" }).catch(() => {});
  showGrid(state);
  openGridSocket();
}

function showGrid(state) {
  grid.session = state;
  grid.history = state.history;
  view.build(state.world);
  fillGridControls(state);
  drawGrid(state.snapshot);
  if (state.snapshot.last_update) renderBellman($("bellman-update"), state.snapshot.last_update);
  else resetBellman();
}

function resetBellman() {
  $("bellman-update").replaceChildren(Object.assign(document.createElement("p"), {
    className: "small muted",
    textContent: "Press “Step one transition”: the agent moves once and this panel shows the update of the one "
      + "Q-value it changed.",
  }));
}

function setSlider(id, value, digits = 2) {
  $(id).value = String(value);
  $(`${id}-value`).textContent = Number(value).toFixed(digits);
}

function fillGridControls(state) {
  const { world, learner } = state;
  setSlider("alpha", learner.alpha);
  setSlider("gamma", learner.gamma);
  setSlider("epsilon", learner.epsilon_start);
  setSlider("epsilon-decay", learner.epsilon_decay, 3);
  setSlider("slip", world.slip);
  $("algorithm").value = learner.algorithm;
  $("step-cost").value = String(world.step_cost);
  $("grid-rows").value = String(world.rows);
  $("grid-cols").value = String(world.cols);
  $("preset").value = state.preset;
  $("preset-description").textContent = grid.presets[state.preset]?.description ?? "";
}

function drawGrid(snapshot, changed = null) {
  const world = grid.session.world;
  view.update(snapshot, changed);
  drawLegend($("q-legend"), { range: view.range, width: 120, label: "Q" });
  drawValues($("value-map"), world, snapshot.values);
  $("grid-episodes").textContent = String(snapshot.episodes);
  $("grid-steps").textContent = String(snapshot.step);
  $("grid-epsilon").textContent = snapshot.epsilon.toFixed(3);
  mergeHistory(grid, snapshot.history_tail);
  const last = grid.history[grid.history.length - 1];
  $("grid-last-return").textContent = last ? formatValue(last.return) : "—";
  drawEpisodeCurve($("return-curve"), grid.history.map((e) => e.episode), grid.history.map((e) => e.return),
    { yLabel: "return" });
}

/** Add a frame's last episodes to a history (they overlap the ones we have; frames may have been dropped). */
function mergeHistory(holder, tail) {
  if (!tail || !tail.length) return;
  const lastKnown = holder.history.length ? holder.history[holder.history.length - 1].episode : 0;
  for (const entry of tail) if (entry.episode > lastKnown) holder.history.push(entry);
  if (holder.history.length > MAX_EPISODES_KEPT) holder.history = holder.history.filter((_, i) => i % 2 === 0);
}

function openGridSocket() {
  if (grid.socket) grid.socket.close();
  const id = grid.session.id;
  grid.socket = connectSocket(`/ws/rl/gridworlds/${id}`, {
    onMessage: (msg) => {
      if (!grid.session || grid.session.id !== id) return;
      if (msg.type === "error") return fail(new Error(msg.detail));
      if (msg.type !== "frame") return;
      setGridPlaying(msg.playing);
      drawGrid(msg.snapshot);
      if (msg.snapshot.last_update && msg.playing) renderBellman($("bellman-update"), msg.snapshot.last_update);
    },
  });
  grid.socket.send({ type: "config", episodes_per_frame: Number($("episodes-per-frame").value) });
}

function setGridPlaying(playing) {
  grid.playing = playing;
  $("grid-play").setAttribute("aria-pressed", String(playing));
  $("grid-play").setAttribute("aria-label", playing ? "Pause" : "Play");
}

async function stepTransition() {
  fail(null);
  if (grid.playing) {
    grid.socket.send({ type: "pause" });
    setGridPlaying(false);
  }
  const { update, snapshot } = await api(`/api/rl/gridworlds/${grid.session.id}/step`, { method: "POST" });
  const [r, c] = update.state;
  drawGrid(snapshot, [r, c, update.action]);
  renderBellman($("bellman-update"), update);
}

async function editWorld(change) {
  fail(null);
  const state = await api(`/api/rl/gridworlds/${grid.session.id}/world`, { method: "POST", body: change });
  showGrid({ ...state, preset: grid.session.preset });
}

async function editCell(r, c) {
  const result = applyTool(grid.session.world.layout, r, c, grid.tool);
  if (result.error) return fail(new Error(result.error));
  await editWorld({ layout: result.layout });
}

function sendLearner(settings) {
  fail(null);
  grid.socket.send({ type: "config", ...settings });
}

function wireGrid() {
  $("preset").addEventListener("change", (e) => createGrid(e.target.value).catch(fail));
  for (const button of document.querySelectorAll(".tool")) {
    button.addEventListener("click", () => {
      grid.tool = button.dataset.tool;
      for (const b of document.querySelectorAll(".tool")) b.setAttribute("aria-checked", String(b === button));
    });
  }
  const slider = (id, key, digits = 2) => {
    $(id).addEventListener("input", () => { $(`${id}-value`).textContent = Number($(id).value).toFixed(digits); });
    $(id).addEventListener("change", () => sendLearner({ [key]: Number($(id).value) }));
  };
  slider("alpha", "alpha");
  slider("gamma", "gamma");
  slider("epsilon", "epsilon");
  slider("epsilon-decay", "epsilon_decay", 3);
  $("slip").addEventListener("input", () => { $("slip-value").textContent = Number($("slip").value).toFixed(2); });
  $("slip").addEventListener("change", () => editWorld({ slip: Number($("slip").value) }).catch(fail));
  $("step-cost").addEventListener("change", () => editWorld({ step_cost: Number($("step-cost").value) }).catch(fail));
  $("algorithm").addEventListener("change", () => sendLearner({ algorithm: $("algorithm").value }));
  $("episodes-per-frame").addEventListener("change",
    () => sendLearner({ episodes_per_frame: Number($("episodes-per-frame").value) }));
  const resizeTo = () => editWorld({ layout: resize(grid.session.world.layout, Number($("grid-rows").value),
    Number($("grid-cols").value)) }).catch(fail);
  $("grid-rows").addEventListener("change", resizeTo);
  $("grid-cols").addEventListener("change", resizeTo);
  $("grid-play").addEventListener("click", () => {
    fail(null);
    grid.socket.send({ type: grid.playing ? "pause" : "play" });
    setGridPlaying(!grid.playing);
  });
  $("step-transition").addEventListener("click", () => stepTransition().catch(fail));
  $("grid-reset").addEventListener("click", async () => {
    try {
      grid.socket.send({ type: "pause" });
      setGridPlaying(false);
      const state = await api(`/api/rl/gridworlds/${grid.session.id}/reset`, { method: "POST" });
      showGrid({ ...state, preset: grid.session.preset });
    } catch (err) { fail(err); }
  });
}

// --- the Q-network playing catch ------------------------------------------------------------------------------

const agent = {
  session: null,
  socket: null,
  training: false,
  history: [],
  watchToken: 0, // bumps to cancel a running animation
};

async function createAgent(pretrained) {
  const old = agent.session;
  stopAgentSocket();
  const body = pretrained ? { game: "catch", pretrained: true } : { game: "catch" };
  const state = await api("/api/rl/agents", { method: "POST", body });
  if (old) api(`/api/rl/agents/${old.id}`, { method: "DELETE" }).catch(() => {});
  agent.session = state;
  agent.history = state.history;
  const n = state.network;
  $("board-size").textContent = `${n.rows} × ${n.cols} = ${n.input}`;
  const trained = state.trained
    ? ` Shipped agent: ${state.trained.episodes.toLocaleString("en")} training episodes; its greedy moves caught `
      + `${formatPercent(state.trained.greedy_catch_rate, 0)} of ${state.trained.eval_episodes} new fruit.`
    : "";
  $("agent-network").textContent = `Network ${n.input} → ${n.hidden.join(" → ")} (${n.activation}) → ${n.outputs}: `
    + `${n.num_params.toLocaleString("en")} parameters.${trained}`;
  showAgentSnapshot(state.snapshot);
  return state;
}

function showAgentSnapshot(snap) {
  drawBoard($("game-board"), snap.board);
  drawQBars($("q-bars"), snap.q);
  $("agent-steps").textContent = String(snap.step);
  $("agent-epsilon").textContent = snap.epsilon.toFixed(2);
  $("agent-catch-rate").textContent = formatPercent(snap.catch_rate, 0);
  $("agent-loss").textContent = snap.last_loss === null ? "—" : snap.last_loss.toExponential(2).replace("-", "−");
  mergeHistory(agent, snap.history_tail);
  const xs = agent.history.map((e) => e.episode);
  drawEpisodeCurve($("catch-curve"), xs, agent.history.map((e) => (e.caught ? 1 : 0)),
    { yLabel: "share caught (mean of 50)", window: 50, meanOnly: true, y: [0, 1] });
  drawEpisodeCurve($("loss-curve"), xs, agent.history.map((e) => e.td_loss),
    { yLabel: "TD loss", window: 20, meanOnly: true });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function watch(episodes = 5) {
  fail(null);
  pauseTraining();
  const token = ++agent.watchToken;
  $("game-mode").textContent = agent.session.pretrained ? "the shipped trained agent, greedy" : "this agent, greedy";
  const played = await api(`/api/rl/agents/${agent.session.id}/play`, { method: "POST", body: { episodes } });
  let caught = 0;
  let seen = 0;
  $("game-board").dataset.playing = "true";
  for (const episode of played.episodes) {
    for (const frame of episode.frames) {
      if (token !== agent.watchToken) return;
      drawBoard($("game-board"), frame.board);
      if (frame.q) drawQBars($("q-bars"), frame.q, frame.action);
      await sleep(120);
    }
    seen += 1;
    caught += episode.caught ? 1 : 0;
    $("game-score").textContent = `Caught ${caught} of ${seen}`;
    $("game-board").dataset.caught = String(caught);
    $("game-board").dataset.played = String(seen);
  }
  $("game-board").dataset.playing = "false";
}

function stopAgentSocket() {
  if (agent.socket) agent.socket.close();
  agent.socket = null;
  agent.training = false;
  $("pause-agent").disabled = true;
}

function pauseTraining() {
  if (agent.socket && agent.training) agent.socket.send({ type: "pause" });
  agent.training = false;
  $("pause-agent").disabled = !agent.socket;
  $("pause-agent").textContent = agent.socket ? "Resume training" : "Pause";
}

function resumeTraining() {
  agent.watchToken++;
  agent.socket.send({ type: "play" });
  agent.training = true;
  $("pause-agent").textContent = "Pause";
  $("game-mode").textContent = "training: ε-greedy moves, one optimiser step after each";
}

async function trainFromScratch() {
  fail(null);
  agent.watchToken++;
  await createAgent(false);
  $("game-score").textContent = "Learning… the share caught climbs as ε falls and the network improves.";
  const id = agent.session.id;
  agent.socket = connectSocket(`/ws/rl/agents/${id}`, {
    onMessage: (msg) => {
      if (!agent.session || agent.session.id !== id) return;
      if (msg.type === "error") return fail(new Error(msg.detail));
      if (msg.type === "frame") showAgentSnapshot(msg.snapshot);
    },
  });
  resumeTraining();
  $("pause-agent").disabled = false;
}

function wireAgent() {
  $("watch-agent").addEventListener("click", () => watch(10).catch(fail));
  $("train-agent").addEventListener("click", () => trainFromScratch().catch(fail));
  $("pause-agent").addEventListener("click", () => {
    if (!agent.socket) return;
    if (agent.training) pauseTraining();
    else resumeTraining();
  });
}

// --- start ------------------------------------------------------------------------------------------------------

async function start() {
  wireGrid();
  wireAgent();
  try {
    const presets = await api("/api/rl/gridworlds/presets");
    for (const p of presets) grid.presets[p.name] = p;
    await createGrid($("preset").value);
    await createAgent(true);
    await watch(3);
  } catch (err) {
    fail(err);
  }
}

start();
