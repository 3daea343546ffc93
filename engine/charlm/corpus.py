"""The character language model's text: the shipped corpus, the character vocabulary, the held-out tail.

`load_corpus()` reads `engine/charlm/data/shakespeare.npz` (eight Shakespeare tragedies, 1.16 M characters; built
by `scripts/build_corpus.py`, see `engine/charlm/data/README.md`). A `Vocabulary` maps characters to ids; any
character outside it (an emoji, a curly quote) becomes the "unknown" symbol `UNKNOWN`, never an error, and the
encoder says where that happened so the page can show it.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.core.errors import EngineError

DEFAULT_NPZ = Path(__file__).resolve().parent / "data" / "shakespeare.npz"
UNKNOWN = "\ufffd"  # the replacement character "�": what a character outside the vocabulary is read as
HELD_OUT_FRACTION = 0.1


@dataclass(frozen=True)
class Corpus:
    """The joined plays as one string, where each starts, and their titles."""

    text: str
    starts: tuple[int, ...]
    plays: tuple[str, ...]

    def split(self, fraction: float = HELD_OUT_FRACTION) -> tuple[str, str]:
        """(training text, held-out tail): the last `fraction` of the characters is never trained on."""
        return split_text(self.text, fraction)


def load_corpus(path: Path | str = DEFAULT_NPZ) -> Corpus:
    try:
        with np.load(path, allow_pickle=False) as npz:
            text = npz["text"].tobytes().decode("ascii")
            starts = tuple(int(s) for s in npz["starts"])
            plays = tuple(str(p) for p in npz["plays"])
    except (OSError, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise EngineError(f"cannot read the corpus {path}: {exc}") from None
    return Corpus(text, starts, plays)


def split_text(text: str, fraction: float = HELD_OUT_FRACTION) -> tuple[str, str]:
    if not 0 < fraction < 1:
        raise EngineError(f"the held-out fraction must be between 0 and 1, got {fraction}")
    cut = len(text) - max(1, int(round(len(text) * fraction)))
    return text[:cut], text[cut:]


class Vocabulary:
    """Characters ↔ ids. The last id is `UNKNOWN`, which every character outside the vocabulary maps to."""

    def __init__(self, symbols: list[str]) -> None:
        if not symbols or symbols[-1] != UNKNOWN:
            raise EngineError("a vocabulary ends with the unknown symbol")
        if any(len(s) != 1 for s in symbols) or len(set(symbols)) != len(symbols):
            raise EngineError("a vocabulary is a list of distinct single characters")
        self.symbols = list(symbols)
        self.unknown_id = len(symbols) - 1
        # A lookup table over code points < 128 (all of the corpus) makes encoding one vectorised take.
        self._ascii = np.full(128, self.unknown_id, dtype=np.int64)
        self._other: dict[str, int] = {}
        for i, s in enumerate(symbols[:-1]):
            if ord(s) < 128:
                self._ascii[ord(s)] = i
            else:
                self._other[s] = i

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """Every character of `text` plus the ten digits (so typed numbers are read), sorted, then UNKNOWN."""
        return cls(sorted(set(text) - {UNKNOWN} | set(string.digits)) + [UNKNOWN])

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, text: str) -> np.ndarray:
        """Ids (int64) of every character; characters outside the vocabulary get `unknown_id`."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        ids = np.full(codes.shape, self.unknown_id, dtype=np.int64)
        low = codes < 128
        ids[low] = self._ascii[codes[low]]
        if self._other and not low.all():
            for i in np.flatnonzero(~low):
                ids[i] = self._other.get(text[i], self.unknown_id)
        return ids

    def decode(self, ids: np.ndarray | list[int]) -> str:
        return "".join(self.symbols[int(i)] for i in ids)


def corpus_vocabulary(corpus: Corpus | None = None) -> Vocabulary:
    return Vocabulary.from_text((corpus or load_corpus()).text)
