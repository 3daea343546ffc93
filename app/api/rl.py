"""Reinforcement learning: grid worlds learned by a Q-table (every Bellman update's terms), and Q-network agents
that learn a game, live over the shared WebSocket stream; the /qlearning page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, WebSocket
from fastapi.responses import HTMLResponse

from engine.core.errors import EngineError
from engine.rl.catch import ACTIONS as GAME_ACTIONS
from engine.rl.dqn import QNetworkTrainer, load_shipped
from engine.rl.gridworld import ACTIONS, DEFAULT_PRESET, PRESETS, GridWorld, get_preset, value_iteration
from engine.rl.tabular import TabularLearner

from ..arrays import encode
from ..errors import too_large
from ..live import LiveHandlers, serve
from ..pages import render
from ..schemas.common import EncodingParam
from ..schemas.rl import (
    AgentState,
    ConfigureAgent,
    CreateAgent,
    CreateGridWorld,
    EditWorld,
    GridPreset,
    GridWorldState,
    LearnerSettings,
    PlayAgent,
    PlayAgentResult,
    QTable,
    StepGridWorldResult,
    TrainAgent,
    TrainAgentResult,
    TrainGridWorld,
    TrainGridWorldResult,
)
from ..store import Session
from .deps import Config, Enc, Store

PAGE = {
    "path": "/qlearning",
    "title": "Q-learning",
    "blurb": "Reinforcement learning you can read: edit a grid world, step one transition and see the Bellman update "
             "with its real numbers, compare Q-learning and SARSA on the cliff, then watch a Q-network learn catch.",
    "order": 8,
}

router = APIRouter(tags=["reinforcement learning"])
GRID, AGENT = "rl-gridworld", "rl-agent"
HISTORY_TAIL = 50
DEFAULT_EPISODES_PER_FRAME = 5
DEFAULT_STEPS_PER_FRAME = 100
WORLD_KEYS = ("step_cost", "goal_reward", "pit_reward", "cliff_reward", "slip", "max_steps")


# --- grid worlds ---------------------------------------------------------------------------------------------


def episode_record(entry: dict[str, Any]) -> dict[str, Any]:
    extra = entry.get("extra", {})
    return {"episode": int(entry["epoch"]), "step": entry["step"], "return": extra.get("return"),
            "length": int(extra.get("length", 0)), "epsilon": extra.get("epsilon"),
            "reached_goal": bool(extra.get("reached_goal")), "mean_sq_td": entry.get("train_loss")}


def grid_snapshot(learner: TabularLearner, encoding: EncodingParam = "json") -> dict[str, Any]:
    cols = learner.world.cols
    return {
        "step": learner.step_count, "episodes": learner.episodes, "epsilon": learner.epsilon,
        "q": encode(learner.q_grid(), encoding), "values": encode(learner.values(), encoding),
        "policy": learner.policy().tolist(), "agent": list(divmod(learner.position, cols)),
        "path": [list(divmod(s, cols)) for s in learner.path],
        "history_tail": [episode_record(e) for e in learner.history[-HISTORY_TAIL:]],
        "history_length": len(learner.history),
        "last_update": None if learner.last_update is None else encode(learner.last_update.as_dict()),
    }


def grid_state(session: Session, encoding: EncodingParam = "json") -> dict[str, Any]:
    learner: TabularLearner = session.obj
    s = learner.settings
    return {
        "id": session.id, "preset": session.extra.get("preset", DEFAULT_PRESET), "world": learner.world.describe(),
        "learner": {"alpha": s["alpha"], "gamma": s["gamma"], "epsilon": learner.epsilon, "epsilon_start": s["epsilon"],
                    "epsilon_decay": s["epsilon_decay"], "epsilon_min": s["epsilon_min"],
                    "algorithm": s["algorithm"], "seed": s["seed"]},
        "actions": list(ACTIONS), "snapshot": grid_snapshot(learner, encoding),
        "history": [episode_record(e) for e in learner.history],
    }


def given(model: Any) -> dict[str, Any]:
    return {} if model is None else model.model_dump(exclude_none=True)


@router.get("/api/rl/gridworlds/presets", response_model=list[GridPreset], summary="Grid-world presets")
def grid_presets() -> list[dict[str, Any]]:
    """Each preset's layout, rewards and learner settings."""
    return [{"name": name, **p} for name, p in PRESETS.items()]


@router.post("/api/rl/gridworlds", response_model=GridWorldState, status_code=201, summary="Create a grid world")
def create_grid(body: CreateGridWorld, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    """A grid world and an all-zero Q-table. Start from a preset and override its layout, rewards or learner
    settings. A layout with no goal, a goal the start cannot reach, or γ outside [0, 1] is refused with 422; a grid
    over 12 × 12 with 413."""
    preset = get_preset(body.preset)
    world = GridWorld(**{**preset["world"], **given(body.world)})
    learner = TabularLearner(world, **{**preset["learner"], **given(body.learner)}, seed=body.seed)
    session = store.add(GRID, learner)
    session.extra["preset"] = body.preset
    return grid_state(session, encoding)


@router.get("/api/rl/gridworlds/{session_id}", response_model=GridWorldState, summary="A grid world's state")
def get_grid(session_id: str, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    with store.use(session_id, GRID) as session:
        return grid_state(session, encoding)


@router.delete("/api/rl/gridworlds/{session_id}", status_code=204, summary="Delete a grid world")
def delete_grid(session_id: str, store: Store) -> Response:
    store.delete(session_id, GRID)
    return Response(status_code=204)


@router.post("/api/rl/gridworlds/{session_id}/step", response_model=StepGridWorldResult,
             summary="One transition and its Bellman update")
def step_grid(session_id: str, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    """The agent makes one ε-greedy move and updates Q(s, a); the answer has every term of the update:
    Q(s, a) ← Q(s, a) + α [r + γ maxₐ′ Q(s′, a′) − Q(s, a)] (SARSA: Q(s′, a′) of its next action)."""
    with store.use(session_id, GRID) as session:
        learner: TabularLearner = session.obj
        update = learner.transition()
        return {"update": encode(update.as_dict()), "snapshot": grid_snapshot(learner, encoding)}


@router.post("/api/rl/gridworlds/{session_id}/train", response_model=TrainGridWorldResult,
             summary="Run whole episodes")
def train_grid(session_id: str, body: TrainGridWorld, store: Store, settings: Config,
               encoding: Enc = "json") -> dict[str, Any]:
    if body.episodes > settings.max_epochs_per_request:
        raise too_large("episodes", body.episodes, settings.max_epochs_per_request, "max_epochs_per_request")
    with store.use(session_id, GRID) as session:
        learner: TabularLearner = session.obj
        records = learner.train_episodes(body.episodes)
        return {"records": [episode_record(e) for e in records], "snapshot": grid_snapshot(learner, encoding)}


@router.get("/api/rl/gridworlds/{session_id}/q", response_model=QTable, summary="The Q-table")
def q_table(session_id: str, store: Store, encoding: Enc = "json", optimal: bool = False) -> dict[str, Any]:
    """Q(s, a) per cell and action, V = max Q, the greedy policy; with `optimal=true` also Q* computed by value
    iteration on the world's own transition model (all states at once), to compare."""
    with store.use(session_id, GRID) as session:
        learner: TabularLearner = session.obj
        out = {"step": learner.step_count, "actions": list(ACTIONS), "q": encode(learner.q_grid(), encoding),
               "values": encode(learner.values(), encoding), "policy": learner.policy().tolist()}
        if optimal:
            q_star = value_iteration(learner.world, learner.gamma, tol=1e-10, max_iter=20_000)
            out["optimal_q"] = encode(q_star.reshape(learner.world.rows, learner.world.cols, 4), encoding)
        return out


@router.post("/api/rl/gridworlds/{session_id}/settings", response_model=GridWorldState,
             summary="Change α, γ, ε or the algorithm")
def configure_grid(session_id: str, body: LearnerSettings, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    """Takes effect from the next transition; the Q-table is kept (switching Q-learning ↔ SARSA mid-way is allowed)."""
    with store.use(session_id, GRID) as session:
        session.obj.configure(**given(body))
        return grid_state(session, encoding)


@router.post("/api/rl/gridworlds/{session_id}/world", response_model=GridWorldState,
             summary="Edit the world (walls, goals, pits, cliff, rewards, slip)")
def edit_world(session_id: str, body: EditWorld, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    """The new world replaces the old one and the Q-table starts again from zeros (the learner's settings stay)."""
    with store.use(session_id, GRID) as session:
        learner: TabularLearner = session.obj
        current = learner.world.describe()
        world = GridWorld(**{"layout": current["layout"], **{k: current[k] for k in WORLD_KEYS}, **given(body)})
        learner.world = world
        learner.reset()
        return grid_state(session, encoding)


@router.post("/api/rl/gridworlds/{session_id}/reset", response_model=GridWorldState,
             summary="Zero the Q-table, same world and settings")
def reset_grid(session_id: str, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    with store.use(session_id, GRID) as session:
        session.obj.reset()
        return grid_state(session, encoding)


def grid_live_handlers(session: Session) -> LiveHandlers:
    learner: TabularLearner = session.obj

    def train(unit: str) -> None:
        if unit == "batch":
            learner.transition()
        else:
            learner.train_episodes(int(session.extra.get("episodes_per_frame", DEFAULT_EPISODES_PER_FRAME)))

    def frame() -> dict[str, Any]:
        return {"snapshot": grid_snapshot(learner),
                "episodes_per_frame": session.extra.get("episodes_per_frame", DEFAULT_EPISODES_PER_FRAME)}

    def configure(message: dict[str, Any]) -> None:
        settings = {k: v for k, v in message.items() if k != "type"}
        per_frame = settings.pop("episodes_per_frame", None)
        if per_frame is not None and (isinstance(per_frame, bool) or not isinstance(per_frame, int)
                                      or not 1 <= per_frame <= 200):
            raise EngineError(f"episodes_per_frame must be a whole number from 1 to 200, got {per_frame!r}")
        learner.configure(**settings)  # validates everything before anything changes
        if per_frame is not None:
            session.extra["episodes_per_frame"] = per_frame

    return LiveHandlers(train=train, frame=frame, configure=configure)


@router.websocket("/ws/rl/gridworlds/{session_id}")
async def grid_live(websocket: WebSocket, session_id: str) -> None:
    """Live learning: {"type": "play" | "pause" | "frame"}, {"type": "step", "unit": "batch"} (one transition) or
    "frame" (episodes_per_frame episodes), {"type": "config", "alpha", "gamma", "epsilon", "epsilon_decay",
    "epsilon_min", "algorithm", "episodes_per_frame"}. Each frame: the snapshot (Q-table, policy, agent, path, last
    episodes, last update)."""
    await serve(websocket, GRID, session_id, grid_live_handlers)


# --- Q-network agents ---------------------------------------------------------------------------------------


def agent_record(entry: dict[str, Any]) -> dict[str, Any]:
    extra = entry.get("extra", {})
    return {"episode": int(entry["epoch"]), "step": entry["step"], "return": extra.get("return"),
            "caught": bool(extra.get("caught")), "catch_rate": entry.get("train_accuracy"),
            "td_loss": entry.get("train_loss"), "epsilon": extra.get("epsilon")}


def agent_snapshot(trainer: QNetworkTrainer, encoding: EncodingParam = "json") -> dict[str, Any]:
    now = trainer.current()
    return {"step": trainer.step_count, "updates": trainer.updates, "episodes": trainer.episodes,
            "epsilon": trainer.epsilon, "catch_rate": trainer.catch_rate(), "last_loss": encode(trainer.last_loss),
            "board": now["board"].tolist(), "q": encode(now["q"], encoding),
            "history_tail": [agent_record(e) for e in trainer.history[-HISTORY_TAIL:]],
            "history_length": len(trainer.history), "diverged": trainer.diverged,
            "message": trainer.diverged_message}


def agent_state(session: Session, encoding: EncodingParam = "json") -> dict[str, Any]:
    trainer: QNetworkTrainer = session.obj
    return {"id": session.id, "game": trainer.settings["game"], "pretrained": bool(session.extra.get("trained")),
            "trained": session.extra.get("trained"), "settings": trainer.settings, "network": trainer.describe(),
            "snapshot": agent_snapshot(trainer, encoding), "history": [agent_record(e) for e in trainer.history]}


@router.post("/api/rl/agents", response_model=AgentState, status_code=201, summary="Create a Q-network agent")
def create_agent(body: CreateAgent, store: Store, settings: Config, encoding: Enc = "json") -> dict[str, Any]:
    """A Q-network for a game: fresh weights, or with `pretrained` the agent that ships with Glassbox (trained by
    `glassbox train catch`). An unknown game is refused with 422, a network over the parameter limit with 413."""
    options = body.model_dump(exclude_none=True, exclude={"game", "pretrained"})
    if body.pretrained:
        if options:
            raise EngineError(f"a pretrained agent comes with its own settings; leave out {sorted(options)}")
        trainer, meta = load_shipped(body.game, max_params=settings.max_parameters)
        trained = {k: meta[k] for k in ("command", "greedy_catch_rate", "eval_episodes", "train_seconds",
                                        "step_count", "episodes") if k in meta}
    else:
        if "game_settings" in options:
            options["game_settings"] = {k: v for k, v in options["game_settings"].items() if v is not None}
        trainer = QNetworkTrainer(max_params=settings.max_parameters, game=body.game, **options)
        trained = None
    session = store.add(AGENT, trainer)
    session.extra["trained"] = trained
    return agent_state(session, encoding)


@router.get("/api/rl/agents/{session_id}", response_model=AgentState, summary="An agent's state")
def get_agent(session_id: str, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    with store.use(session_id, AGENT) as session:
        return agent_state(session, encoding)


@router.delete("/api/rl/agents/{session_id}", status_code=204, summary="Delete an agent")
def delete_agent(session_id: str, store: Store) -> Response:
    store.delete(session_id, AGENT)
    return Response(status_code=204)


@router.post("/api/rl/agents/{session_id}/train", response_model=TrainAgentResult, summary="Train for some moves")
def train_agent(session_id: str, body: TrainAgent, store: Store, settings: Config,
                encoding: Enc = "json") -> dict[str, Any]:
    """Play `steps` moves ε-greedily, remembering each, with one optimiser step on a replayed mini-batch after each
    (once the memory holds `learn_start`). A diverging network answers 409 and keeps its last finite weights."""
    if body.steps > settings.max_steps_per_request:
        raise too_large("steps", body.steps, settings.max_steps_per_request, "max_steps_per_request")
    with store.use(session_id, AGENT) as session:
        trainer: QNetworkTrainer = session.obj
        records = trainer.train(body.steps)
        return {"records": [agent_record(e) for e in records], "snapshot": agent_snapshot(trainer, encoding)}


@router.post("/api/rl/agents/{session_id}/play", response_model=PlayAgentResult, summary="Play whole episodes")
def play_agent(session_id: str, body: PlayAgent, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    """Episodes played without learning: every frame's board, the Q-values the network gives it, the move."""
    with store.use(session_id, AGENT) as session:
        trainer: QNetworkTrainer = session.obj
        episodes = trainer.play(body.episodes, epsilon=body.epsilon, seed=body.seed)
    out = []
    for ep in episodes:
        frames = [{"board": f["board"].tolist(), "q": None if f["q"] is None else encode(f["q"], encoding),
                   "action": f["action"], "action_name": None if f["action"] is None else GAME_ACTIONS[f["action"]],
                   "explored": f["explored"], "reward": f["reward"], "done": f["done"]} for f in ep["frames"]]
        out.append({"frames": frames, "return": ep["return"], "caught": ep["caught"]})
    caught = sum(1 for ep in episodes if ep["caught"])
    return {"episodes": out, "caught": caught, "catch_rate": caught / len(episodes)}


@router.post("/api/rl/agents/{session_id}/settings", response_model=AgentState, summary="Change training settings")
def configure_agent(session_id: str, body: ConfigureAgent, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    with store.use(session_id, AGENT) as session:
        session.obj.configure(**given(body))
        return agent_state(session, encoding)


@router.post("/api/rl/agents/{session_id}/reset", response_model=AgentState,
             summary="Fresh weights and memory, same settings")
def reset_agent(session_id: str, store: Store, encoding: Enc = "json") -> dict[str, Any]:
    with store.use(session_id, AGENT) as session:
        session.obj.reset()
        session.extra["trained"] = None
        return agent_state(session, encoding)


def agent_live_handlers(session: Session) -> LiveHandlers:
    trainer: QNetworkTrainer = session.obj

    def train(unit: str) -> None:
        trainer.train(1 if unit == "batch" else int(session.extra.get("steps_per_frame", DEFAULT_STEPS_PER_FRAME)))

    def frame() -> dict[str, Any]:
        return {"snapshot": agent_snapshot(trainer),
                "steps_per_frame": session.extra.get("steps_per_frame", DEFAULT_STEPS_PER_FRAME)}

    def configure(message: dict[str, Any]) -> None:
        settings = {k: v for k, v in message.items() if k != "type"}
        per_frame = settings.pop("steps_per_frame", None)
        if per_frame is not None and (isinstance(per_frame, bool) or not isinstance(per_frame, int)
                                      or not 1 <= per_frame <= 2000):
            raise EngineError(f"steps_per_frame must be a whole number from 1 to 2000, got {per_frame!r}")
        if settings:
            trainer.configure(**settings)
        if per_frame is not None:
            session.extra["steps_per_frame"] = per_frame

    return LiveHandlers(train=train, frame=frame, configure=configure)


@router.websocket("/ws/rl/agents/{session_id}")
async def agent_live(websocket: WebSocket, session_id: str) -> None:
    """Live training: {"type": "play" | "pause" | "frame"}, {"type": "step"} (steps_per_frame moves) or with
    "unit": "batch" (one move), {"type": "config", "learning_rate", "gamma", "epsilon_end", "epsilon_steps",
    "target_every", "batch_size", "loss", "steps_per_frame"}. Each frame: the training board, Q(s, ·), ε, the catch
    rate and the last episodes."""
    await serve(websocket, AGENT, session_id, agent_live_handlers)


# --- the page ---------------------------------------------------------------------------------------------------


@router.get("/qlearning", response_class=HTMLResponse, include_in_schema=False)
def qlearning_page(request: Request) -> HTMLResponse:
    return render(request, "qlearning.html", title="Q-learning",
                  presets=[{"name": n, "title": p["title"]} for n, p in PRESETS.items()], default=DEFAULT_PRESET)

