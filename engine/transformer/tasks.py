"""Toy sequence tasks whose attention patterns people can read, and the presets built on them.

Each task generates batches in the layout its model reads (`SeqBatch`), turns a typed sequence
into model input, and says how outputs are produced:
  seq2seq   encoder-decoder; the decoder writes the answer token by token (greedy)
  tagging   encoder only; one output per input position, all at once
  generate  decoder only; the prompt, a separator, then the answer written token by token
  next      decoder only; every position predicts the next token (induction)
  classify  decoder only; the last position's output is the class
Generators are vectorised over the batch (no Python loop per sequence).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from engine.core.errors import EngineError

Mode = Literal["seq2seq", "tagging", "generate", "next", "classify"]
DIGITS = [str(d) for d in range(10)]


@dataclass
class SeqBatch:
    """A batch as the model reads it.

    src: (B, S) the encoder's input (encoder-decoder only, else None)
    inputs: (B, T) what the main stack reads; targets: (B, T) what each position should output;
    scored: (B, T) bool, the positions that count in the loss and the accuracies.
    """

    src: np.ndarray | None
    inputs: np.ndarray
    targets: np.ndarray
    scored: np.ndarray

    def __len__(self) -> int:
        return len(self.inputs)

    def rows(self, keep: np.ndarray) -> SeqBatch:
        return SeqBatch(None if self.src is None else self.src[keep], self.inputs[keep], self.targets[keep],
                        self.scored[keep])

    @staticmethod
    def concat(parts: list[SeqBatch]) -> SeqBatch:
        src = None if parts[0].src is None else np.concatenate([p.src for p in parts])
        return SeqBatch(src, np.concatenate([p.inputs for p in parts]), np.concatenate([p.targets for p in parts]),
                        np.concatenate([p.scored for p in parts]))


class Task:
    """A toy task. Subclasses set the vocabularies and implement `sample` and `expected` (and `prompt`
    when the model writes its answer token by token)."""

    name = "task"
    mode: Mode = "tagging"
    #: tokens a person may type, by id; the model may read more (a start token, a separator)
    typed_vocab: list[str] = DIGITS
    #: names of the ids the main stack reads, the encoder reads (seq2seq) and the head writes
    input_vocab: list[str] = DIGITS
    src_vocab: list[str] = DIGITS
    output_vocab: list[str] = DIGITS

    def __init__(self, length: int) -> None:
        self.length = length

    @property
    def max_typed(self) -> int:
        """Longest sequence a person may type."""
        return self.length

    @property
    def model_max_len(self) -> int:
        """Longest sequence the main stack reads (sets the positional table)."""
        return self.length

    def sample(self, rng: np.random.Generator, n: int) -> SeqBatch:
        raise NotImplementedError

    def key(self, batch: SeqBatch) -> np.ndarray:
        """An int64 hash per sequence, so that held-out sequences never appear in training."""
        tokens = batch.src if batch.src is not None else batch.inputs
        weights = np.power(np.int64(1_000_003), np.arange(tokens.shape[1], dtype=np.int64))  # wraps: a hash
        return (tokens.astype(np.int64) * weights).sum(axis=1)

    def parse(self, tokens: list[int] | list[str] | list[int | str] | str) -> list[int]:
        """A typed sequence → token ids; a clear error names the vocabulary and the length limit."""
        names = self.typed_vocab
        if isinstance(tokens, str):
            text = tokens.strip()
            parts = text.split() if any(ch.isspace() for ch in text) else (
                list(text) if all(ch in names for ch in text) else [text])
        else:
            parts = [str(t) if isinstance(t, str) else t for t in tokens]  # type: ignore[misc]
        ids: list[int] = []
        bad: list[str] = []
        for part in parts:
            if isinstance(part, bool):
                bad.append(repr(part))
            elif isinstance(part, int):
                (ids if 0 <= part < len(names) else bad).append(part if 0 <= part < len(names) else str(part))
            elif isinstance(part, str) and part in names:
                ids.append(names.index(part))
            elif isinstance(part, str) and part.lstrip("-").isdigit() and 0 <= int(part) < len(names):
                ids.append(int(part))
            else:
                bad.append(str(part))
        vocab = ", ".join(f"{i}={n}" if n != str(i) else n for i, n in enumerate(names))
        if bad:
            raise EngineError(f"unknown token{'s' if len(bad) > 1 else ''} {', '.join(bad)}: the {self.name} task's "
                              f"vocabulary is {vocab} (give names or ids), at most {self.max_typed} tokens")
        if not ids:
            raise EngineError(f"the sequence is empty: type 1 to {self.max_typed} tokens from {vocab}")
        if len(ids) > self.max_typed:
            raise EngineError(f"the sequence has {len(ids)} tokens, over this model's limit of {self.max_typed}; "
                              f"vocabulary: {vocab}")
        return ids

    def prompt(self, ids: list[int]) -> tuple[np.ndarray | None, np.ndarray, int]:
        """Model input for one typed sequence: (src, inputs so far, number of tokens to generate).
        By default the main stack reads the sequence as typed, in one pass, and writes nothing."""
        return None, np.array([ids]), 0

    def expected(self, ids: list[int]) -> list[int | None]:
        """The right answer for a typed sequence (output ids; None where no answer is defined)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "mode": self.mode, "length": self.length, "typed_vocab": self.typed_vocab,
                "input_vocab": self.input_vocab, "src_vocab": self.src_vocab, "output_vocab": self.output_vocab,
                "max_typed": self.max_typed}


def random_digits(rng: np.random.Generator, n: int, length: int, vocab: int = 10) -> np.ndarray:
    return rng.integers(0, vocab, size=(n, length))


class Reverse(Task):
    """Write the sequence backwards. seq2seq: the cross-attention turns into an anti-diagonal."""

    name = "reverse"
    mode: Mode = "seq2seq"
    input_vocab = [*DIGITS, "<s>"]
    start = 10

    def sample(self, rng: np.random.Generator, n: int) -> SeqBatch:
        x = random_digits(rng, n, self.length)
        y = x[:, ::-1].copy()
        shifted = np.concatenate([np.full((n, 1), self.start), y[:, :-1]], axis=1)
        return SeqBatch(x, shifted, y, np.ones_like(y, dtype=bool))

    def prompt(self, ids: list[int]) -> tuple[np.ndarray | None, np.ndarray, int]:
        return np.array([ids]), np.array([[self.start]]), len(ids)

    def expected(self, ids: list[int]) -> list[int | None]:
        return list(ids[::-1])


class ReverseTagging(Task):
    """Reverse with an encoder only: position i must read position n−1−i, one head can do it."""

    name = "reverse"
    mode: Mode = "tagging"

    def sample(self, rng: np.random.Generator, n: int) -> SeqBatch:
        x = random_digits(rng, n, self.length)
        y = x[:, ::-1].copy()
        return SeqBatch(None, x, y, np.ones_like(y, dtype=bool))

    def expected(self, ids: list[int]) -> list[int | None]:
        return list(ids[::-1])


class PromptAnswer(Task):
    """Decoder-only: the prompt, a separator "|", then the answer; only the answer is scored."""

    mode: Mode = "generate"
    input_vocab = [*DIGITS, "|"]
    output_vocab = [*DIGITS, "|"]
    separator = 10

    def answer(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @property
    def model_max_len(self) -> int:
        return 2 * self.length

    def sample(self, rng: np.random.Generator, n: int) -> SeqBatch:
        x = random_digits(rng, n, self.length)
        seq = np.concatenate([x, np.full((n, 1), self.separator), self.answer(x)], axis=1)
        scored = np.zeros((n, 2 * self.length), dtype=bool)
        scored[:, self.length:] = True  # the separator's position predicts the first answer token, and so on
        return SeqBatch(None, seq[:, :-1], seq[:, 1:], scored)

    def prompt(self, ids: list[int]) -> tuple[np.ndarray | None, np.ndarray, int]:
        return None, np.array([[*ids, self.separator]]), len(ids)

    def expected(self, ids: list[int]) -> list[int | None]:
        return self.answer(np.array([ids]))[0].tolist()


class Sort(PromptAnswer):
    name = "sort"

    def answer(self, x: np.ndarray) -> np.ndarray:
        return np.sort(x, axis=1)


class Copy(PromptAnswer):
    name = "copy"

    def answer(self, x: np.ndarray) -> np.ndarray:
        return x.copy()


LETTERS = [chr(ord("A") + i) for i in range(26)]


class Induction(Task):
    """Random letters, then a random pattern repeating with a random period until the end.

    Once the pattern has been seen, the next letter is predictable by finding the previous occurrence
    of the current letter and copying what followed it. That takes two attention layers: a
    previous-token head, then an induction head reading it. The random lead-in (letters never seen
    again) keeps shortcuts away, such as "predict the letter seen longest ago".
    """

    name = "induction"
    mode: Mode = "next"

    def __init__(self, length: int, vocab: int = 26, min_period: int = 3, max_period: int = 8) -> None:
        super().__init__(length)
        if not 2 <= vocab <= len(LETTERS) or not 2 <= min_period <= max_period < vocab or 2 * max_period > length:
            raise EngineError(f"induction needs 2 ≤ min_period ≤ max_period < vocab ≤ {len(LETTERS)} "
                              f"and 2·max_period ≤ length")
        self.vocab, self.min_period, self.max_period = vocab, min_period, max_period
        self.typed_vocab = self.input_vocab = self.output_vocab = LETTERS[:vocab]

    def sample(self, rng: np.random.Generator, n: int) -> SeqBatch:
        t = np.arange(self.length + 1)
        period = rng.integers(self.min_period, self.max_period + 1, size=n)
        lead = rng.integers(0, self.length + 1 - 2 * period + 1)  # room for two full periods after it
        # A random permutation per row: its first `period` letters are the pattern, the rest the lead-in's.
        letters = np.argsort(rng.random((n, self.vocab)), axis=1)
        others = self.vocab - period
        noise_pick = period[:, None] + (rng.random((n, self.length + 1)) * others[:, None]).astype(np.int64)
        noise = np.take_along_axis(letters, noise_pick, axis=1)
        in_pattern = t[None, :] >= lead[:, None]
        pattern_pos = np.where(in_pattern, (t[None, :] - lead[:, None]) % period[:, None], 0)
        seq = np.where(in_pattern, np.take_along_axis(letters, pattern_pos, axis=1), noise)
        # Position t is scored when its letter has been seen one period back inside the pattern.
        scored = t[None, : self.length] >= (lead + period)[:, None]
        return SeqBatch(None, seq[:, :-1], seq[:, 1:], scored)

    def expected(self, ids: list[int]) -> list[int | None]:
        """At each position: what followed the previous occurrence of this token (None if it is new)."""
        seq = np.array(ids)
        same = (seq[:, None] == seq[None, :]) & np.tri(len(seq), k=-1, dtype=bool)  # earlier equal tokens
        has = same.any(axis=1)
        last = len(seq) - 1 - np.argmax(same[:, ::-1], axis=1)
        return [int(seq[j + 1]) if h else None for h, j in zip(has, last, strict=True)]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "min_period": self.min_period, "max_period": self.max_period}


class Brackets(Task):
    """Is the bracket string balanced? Negatives have as many "(" as ")" so counting alone fails:
    the model must notice a prefix where ")" outnumbers "(". Read left to right, answered at the end."""

    name = "brackets"
    mode: Mode = "classify"
    typed_vocab = input_vocab = ["(", ")"]
    output_vocab = ["unbalanced", "balanced"]

    def sample(self, rng: np.random.Generator, n: int) -> SeqBatch:
        half = self.length // 2
        balanced_rows = n // 2
        # Random arrangements of equal counts; about 1 in (half+1) is balanced, so draw enough and keep them.
        draws = max(4 * n * (half + 1), 64)
        base = np.array([0] * half + [1] * half)
        strings = np.take_along_axis(np.broadcast_to(base, (draws, self.length)),
                                     np.argsort(rng.random((draws, self.length)), axis=1), axis=1)
        depth = np.cumsum(np.where(strings == 0, 1, -1), axis=1)
        ok = (depth >= 0).all(axis=1)
        good, bad = strings[ok][:balanced_rows], strings[~ok][: n - balanced_rows]
        if len(good) < balanced_rows:  # astronomically unlikely with 4× margin; say so rather than loop
            raise EngineError("could not draw enough balanced strings; try again")
        x = np.concatenate([good, bad])
        labels = np.concatenate([np.ones(len(good), dtype=np.int64), np.zeros(len(bad), dtype=np.int64)])
        order = rng.permutation(n)
        x, labels = x[order], labels[order]
        targets = np.zeros_like(x)
        targets[:, -1] = labels
        scored = np.zeros(x.shape, dtype=bool)
        scored[:, -1] = True
        return SeqBatch(None, x, targets, scored)

    def expected(self, ids: list[int]) -> list[int | None]:
        depth = np.cumsum(np.where(np.array(ids) == 0, 1, -1))
        return [int(depth[-1] == 0 and (depth >= 0).all())]


# --- presets --------------------------------------------------------------------------------

#: Every preset trains alike: Adam 1e-3 after 100 warm-up steps, gradients clipped to norm 1.
TRAIN = {"batch_size": 64, "learning_rate": 1e-3, "warmup": 100, "clip_norm": 1.0}


def preset(title: str, description: str, task: str, length: int, **model: Any) -> dict[str, Any]:
    """A preset: the task and its length, the model (`arch`, `layers`, `heads`, `d_model`, ...; learned
    positions unless it says otherwise) and the shared training settings."""
    model.setdefault("positional", "learned")
    return {"title": title, "description": description, "task": {"name": task, "length": length}, "model": model,
            "train": dict(TRAIN)}


PRESETS: dict[str, dict[str, Any]] = {
    "reverse": preset(
        "Reverse", "Encoder-decoder writes 8 digits backwards. Watch the cross-attention become an anti-diagonal; "
                   "the decoder's masked self-attention stays triangular.",
        "reverse", 8, arch="encoder-decoder", layers=2, heads=2, d_model=32, d_ff=64),
    "reverse-1head": preset(
        "Reverse, one head", "Encoder only, 1 layer, 1 head: position i learns to look at position 7 − i. "
                             "The simplest map there is.",
        "reverse-tagging", 8, arch="encoder", layers=1, heads=1, d_model=32, d_ff=64),
    "sort": preset(
        "Sort", "Decoder only: 6 digits, a separator, then the digits in order. Each answer position looks for "
                "the next digit up.",
        "sort", 6, arch="decoder", layers=2, heads=2, d_model=64, d_ff=128),
    "copy": preset(
        "Copy", "Decoder only: 6 digits, a separator, the same digits again. The map is a diagonal shifted by the "
                "prompt's length.",
        "copy", 6, arch="decoder", layers=2, heads=2, d_model=32, d_ff=64),
    "induction": preset(
        "Induction heads", "Attention only, 2 layers, 4 heads: random letters repeating with a random period. "
                           "Accuracy plateaus, then jumps when a previous-token head and an induction head form.",
        "induction", 24, arch="decoder", layers=2, heads=4, d_model=64, ffn=False, norm="pre"),
    "induction-1layer": preset(
        "Induction, 1 layer", "The same task with one attention layer: it cannot build an induction head, so "
                              "accuracy stays low. Compare with the 2-layer model.",
        "induction", 24, arch="decoder", layers=1, heads=4, d_model=64, ffn=False, norm="pre"),
    "brackets": preset(
        "Brackets", "Is a string of 16 brackets balanced? The unbalanced ones have equal counts, so the model must "
                    "find a prefix that closes more than it opened.",
        "brackets", 16, arch="decoder", layers=2, heads=2, d_model=32, d_ff=64),
}
DEFAULT_PRESET = "reverse"

TASKS = {"reverse": Reverse, "reverse-tagging": ReverseTagging, "sort": Sort, "copy": Copy, "induction": Induction,
         "brackets": Brackets}


def make_task(config: dict[str, Any]) -> Task:
    config = dict(config)
    name = config.pop("name", None)
    if name not in TASKS:
        raise EngineError(f"unknown task '{name}'; use one of: {', '.join(TASKS)}")
    length = config.pop("length", 8)
    if isinstance(length, bool) or not isinstance(length, int) or not 2 <= length <= 64:
        raise EngineError(f"task length must be a whole number from 2 to 64, got {length!r}")
    if name == "brackets" and length % 2:
        raise EngineError("brackets needs an even length (as many openings as closings)")
    try:
        return TASKS[name](length, **config)
    except TypeError as exc:
        raise EngineError(f"bad settings for the {name} task: {exc}") from exc


def get_preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise EngineError(f"unknown task preset '{name}'; use one of: {', '.join(PRESETS)}")
    return copy.deepcopy(PRESETS[name])


def list_presets() -> list[dict[str, Any]]:
    return [{"name": name, **copy.deepcopy(p)} for name, p in PRESETS.items()]
