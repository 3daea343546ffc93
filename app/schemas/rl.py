"""Schemas of the reinforcement-learning API (/api/rl): grid worlds learned by a Q-table, agents with a Q-network."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import ArrayJSON, FiniteFloat

Algorithm = Literal["q-learning", "sarsa"]
LAYOUT_HELP = ("One string per row, one character per cell: '.' empty, '#' wall, 'S' start (exactly one), 'G' goal "
               "(at least one), 'P' pit, 'C' cliff; 2 to 12 rows and columns")


# --- grid worlds ------------------------------------------------------------------------------------------------


class WorldSettings(BaseModel):
    """The world: leave a field out to keep the preset's (or, when editing, the current) value."""

    model_config = ConfigDict(extra="forbid")

    layout: list[str] | None = Field(None, max_length=64, description=LAYOUT_HELP)
    step_cost: FiniteFloat | None = Field(None, description="Reward of every ordinary move (negative: a cost)")
    goal_reward: FiniteFloat | None = Field(None, description="Reward for entering a goal (ends the episode)")
    pit_reward: FiniteFloat | None = Field(None, description="Reward for entering a pit (ends the episode)")
    cliff_reward: FiniteFloat | None = Field(None, description="Reward for stepping onto the cliff (back to the "
                                                               "start; the episode goes on)")
    slip: FiniteFloat | None = Field(None, description="Chance that a move slides sideways instead, in [0, 1]")
    max_steps: int | None = Field(None, description="Moves after which an episode is cut off (1 to 10000)")


class LearnerSettings(BaseModel):
    """How the Q-table learns; leave a field out to keep the current (or the preset's) value."""

    model_config = ConfigDict(extra="forbid")

    alpha: FiniteFloat | None = Field(None, gt=0, le=1, description="Learning rate α in (0, 1]")
    gamma: FiniteFloat | None = Field(None, ge=0, le=1, description="Discount γ in [0, 1]")
    epsilon: FiniteFloat | None = Field(None, ge=0, le=1, description="Exploration ε: chance of a random action")
    epsilon_decay: FiniteFloat | None = Field(None, ge=0, le=1, description="ε is multiplied by this after every "
                                                                          "episode")
    epsilon_min: FiniteFloat | None = Field(None, ge=0, le=1, description="ε never decays below this")
    algorithm: Algorithm | None = Field(None, description="q-learning (bootstrap on maxₐ′ Q(s′, a′)) or sarsa "
                                                          "(on Q(s′, a′) of the action taken next)")


class CreateGridWorld(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"preset": "classic"}, {"preset": "cliff", "learner": {"algorithm": "sarsa"}},
        {"world": {"layout": ["S..#", ".#..", "...P", "#..G"], "step_cost": -0.04},
         "learner": {"alpha": 0.5, "gamma": 0.9, "epsilon": 0.2}}]})

    preset: str = Field("classic", description="Start from a preset (GET /api/rl/gridworlds/presets): classic, "
                                                "cliff, slippery")
    world: WorldSettings | None = None
    learner: LearnerSettings | None = None
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of exploration and slips")


class EditWorld(WorldSettings):
    """A new layout or rewards: the Q-table starts again from zeros (it described the old world)."""


class TrainGridWorld(BaseModel):
    model_config = ConfigDict(extra="forbid")

    episodes: int = Field(ge=1, description="Whole episodes to run (each ends at a goal or pit, or after max_steps)")


class WorldInfo(BaseModel):
    layout: list[str]
    rows: int
    cols: int
    start: list[int] = Field(description="[row, col] of the start")
    step_cost: float
    goal_reward: float
    pit_reward: float
    cliff_reward: float
    slip: float
    max_steps: int


class LearnerInfo(BaseModel):
    alpha: float
    gamma: float
    epsilon: float = Field(description="ε now (after decay)")
    epsilon_start: float = Field(description="ε at the first episode")
    epsilon_decay: float
    epsilon_min: float
    algorithm: Algorithm
    seed: int


class EpisodeRecord(BaseModel):
    episode: int
    step: int = Field(description="Transitions so far, at the episode's end")
    episode_return: float = Field(alias="return", description="Sum of the episode's rewards (undiscounted)")
    length: int = Field(description="Moves in the episode")
    epsilon: float = Field(description="ε during the episode")
    reached_goal: bool
    mean_sq_td: float | None = Field(description="Mean squared TD error of the episode's updates")

    model_config = ConfigDict(populate_by_name=True)


class BellmanUpdateInfo(BaseModel):
    """One transition and its update, every term filled in:
    Q(s, a) ← Q(s, a) + α [r + γ · bootstrap − Q(s, a)], bootstrap = maxₐ′ Q(s′, a′) (Q-learning) or Q(s′, a′) of
    the next action (SARSA), 0 when s′ is terminal."""

    step: int
    episode: int = Field(description="Episodes finished before this transition")
    algorithm: Algorithm
    state: list[int] = Field(description="s as [row, col]")
    action: int = Field(description="a: 0 up, 1 right, 2 down, 3 left")
    action_name: str
    explored: bool = Field(description="a was ε's random pick, not the greedy one")
    moved: int = Field(description="The direction actually taken (a slip changes it)")
    moved_name: str
    slipped: bool
    reward: float = Field(description="r")
    next_state: list[int] = Field(description="s′ as [row, col]")
    done: bool = Field(description="s′ is terminal (goal or pit): the bootstrap term is 0")
    truncated: bool = Field(description="The episode hit max_steps here (the update still bootstraps)")
    sent_to_start: bool = Field(description="The move stepped onto the cliff: s′ is the start")
    alpha: float
    gamma: float
    epsilon: float
    q_old: float = Field(description="Q(s, a) before the update")
    next_action: int | None = Field(description="a′ (argmax for Q-learning, the next action for SARSA)")
    next_action_name: str | None
    bootstrap: float = Field(description="maxₐ′ Q(s′, a′) or Q(s′, a′); 0 at a terminal s′")
    target: float = Field(description="r + γ · bootstrap")
    td_error: float = Field(description="target − Q(s, a)")
    q_new: float = Field(description="Q(s, a) + α · td_error, the value now in the table")


class GridSnapshot(BaseModel):
    """The learner now: what the page draws after every transition or frame."""

    step: int = Field(description="Transitions (updates) so far")
    episodes: int
    epsilon: float
    q: ArrayJSON = Field(description="(rows, cols, 4) Q(s, a) for up, right, down, left")
    values: ArrayJSON = Field(description="(rows, cols) V(s) = maxₐ Q(s, a)")
    policy: list[list[int]] = Field(description="(rows, cols) greedy action per cell; −1 where undecided (walls, "
                                                "terminal cells, a tie for the best value)")
    agent: list[int] = Field(description="[row, col] of the agent")
    path: list[list[int]] = Field(description="Cells of the current episode so far (at most 400)")
    history_tail: list[EpisodeRecord] = Field(description="The last (up to 50) episodes")
    history_length: int
    last_update: BellmanUpdateInfo | None


class GridWorldState(BaseModel):
    id: str = Field(description="Session id")
    preset: str
    world: WorldInfo
    learner: LearnerInfo
    actions: list[str]
    snapshot: GridSnapshot
    history: list[EpisodeRecord] = Field(description="Every episode (older ones thinned past 4000)")


class StepGridWorldResult(BaseModel):
    update: BellmanUpdateInfo
    snapshot: GridSnapshot


class TrainGridWorldResult(BaseModel):
    records: list[EpisodeRecord] = Field(description="The episodes this request ran")
    snapshot: GridSnapshot


class QTable(BaseModel):
    step: int
    actions: list[str]
    q: ArrayJSON = Field(description="(rows, cols, 4) Q(s, a)")
    values: ArrayJSON = Field(description="(rows, cols) maxₐ Q(s, a)")
    policy: list[list[int]]
    optimal_q: ArrayJSON | None = Field(None, description="(rows, cols, 4) Q* by value iteration, with "
                                                          "?optimal=true (γ < 1, or γ = 1 with bounded returns)")


class GridPreset(BaseModel):
    name: str
    title: str
    description: str
    world: dict[str, Any]
    learner: dict[str, Any]


# --- Q-network agents ---------------------------------------------------------------------------------------------


class GameSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: int | None = Field(None, description="Board rows (4 to 16)")
    cols: int | None = Field(None, description="Board columns (4 to 16)")


class CreateAgent(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"game": "catch", "pretrained": True}, {"game": "catch"},
        {"game": "catch", "hidden": [50, 50], "learning_rate": 0.001, "loss": "mse"}]})

    game: str = Field("catch", description="The game: catch")
    pretrained: bool = Field(False, description="Start from the shipped trained agent (then no other settings)")
    game_settings: GameSettings | None = None
    hidden: list[int] | None = Field(None, max_length=4, description="Hidden layer widths (ReLU), up to 4 × 512")
    activation: Literal["relu", "tanh"] | None = None
    learning_rate: FiniteFloat | None = Field(None, gt=0, le=1, description="Adam's step size")
    gamma: FiniteFloat | None = Field(None, ge=0, le=1, description="Discount γ")
    batch_size: int | None = Field(None, description="Transitions per optimiser step (1 to 1024)")
    replay_size: int | None = Field(None, description="Transitions the replay memory keeps (up to 100000)")
    learn_start: int | None = Field(None, description="Transitions remembered before learning starts")
    target_every: int | None = Field(None, description="Optimiser steps between target-network refreshes")
    epsilon_start: FiniteFloat | None = Field(None, ge=0, le=1)
    epsilon_end: FiniteFloat | None = Field(None, ge=0, le=1)
    epsilon_steps: int | None = Field(None, description="Moves over which ε falls linearly from start to end")
    loss: Literal["huber", "mse"] | None = Field(None, description="huber (the gradient clips δ to [−1, 1]) or mse "
                                                                   "(½δ²)")
    seed: int | None = Field(None, ge=0, le=2**32 - 1)


class ConfigureAgent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    learning_rate: FiniteFloat | None = Field(None, gt=0, le=1)
    gamma: FiniteFloat | None = Field(None, ge=0, le=1)
    epsilon_end: FiniteFloat | None = Field(None, ge=0, le=1)
    epsilon_steps: int | None = None
    target_every: int | None = None
    batch_size: int | None = None
    loss: Literal["huber", "mse"] | None = None


class TrainAgent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(ge=1, description="Moves to play, each followed by one optimiser step once learning started")


class PlayAgent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    episodes: int = Field(1, ge=1, le=50, description="Episodes (fruit) to play")
    epsilon: FiniteFloat = Field(0.0, ge=0, le=1, description="Chance of a random move (0: greedy)")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="Seed of the fruit and the random moves")


class AgentRecord(BaseModel):
    episode: int
    step: int = Field(description="Moves so far, at the episode's end")
    episode_return: float = Field(alias="return")
    caught: bool
    catch_rate: float = Field(description="Share of the last (up to) 100 training episodes caught")
    td_loss: float | None = Field(description="Mean TD loss of the optimiser steps during the episode")
    epsilon: float

    model_config = ConfigDict(populate_by_name=True)


class AgentSnapshot(BaseModel):
    step: int = Field(description="Moves played in training")
    updates: int = Field(description="Optimiser steps taken")
    episodes: int
    epsilon: float
    catch_rate: float | None
    last_loss: float | None
    board: ArrayJSON = Field(description="(rows, cols) the training game now: 0 empty, 1 fruit, 2 paddle")
    q: ArrayJSON = Field(description="Q(s, ·) of the board now, one per action")
    history_tail: list[AgentRecord]
    history_length: int
    diverged: bool
    message: str


class NetworkInfo(BaseModel):
    input: int
    hidden: list[int]
    outputs: int
    activation: str
    num_params: int
    actions: list[str]
    rows: int
    cols: int


class AgentState(BaseModel):
    id: str
    game: str
    pretrained: bool
    trained: dict[str, Any] | None = Field(description="For the shipped agent: how it was trained (command, greedy "
                                                       "catch rate, seconds)")
    settings: dict[str, Any]
    network: NetworkInfo
    snapshot: AgentSnapshot
    history: list[AgentRecord]


class TrainAgentResult(BaseModel):
    records: list[AgentRecord]
    snapshot: AgentSnapshot


class PlayFrame(BaseModel):
    board: ArrayJSON = Field(description="(rows, cols) before the move: 0 empty, 1 fruit, 2 paddle")
    q: ArrayJSON | None = Field(description="Q(s, ·) of this board (none on the last frame)")
    action: int | None
    action_name: str | None
    explored: bool
    reward: float
    done: bool


class PlayedEpisode(BaseModel):
    frames: list[PlayFrame]
    episode_return: float = Field(alias="return")
    caught: bool

    model_config = ConfigDict(populate_by_name=True)


class PlayAgentResult(BaseModel):
    episodes: list[PlayedEpisode]
    caught: int
    catch_rate: float
