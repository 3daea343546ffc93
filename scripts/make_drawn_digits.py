"""Build engine/lenet/data/drawn_digits.npz: digits drawn from strokes, as a person draws them on the LeNet pad.

MNIST's test digits say how well LeNet reads MNIST; this set says how well it reads a digit drawn on the page.
Every digit here is made of pen strokes written down below in four hands (plain print; print with a flagged 1,
a crossed 7 and a closed 4; round, loopy forms; narrow and hurried), then drawn with a random size (a quarter
to nine tenths of the pad), slant, rotation, aspect, position, wobble and stroke width, rendered the way the page
renders strokes (static/js/lib/draw-pad.js: round pen, width following the drawing's size, on a 280-pixel
pad) and preprocessed by the engine exactly as a drawing sent to /api/lenet/predict is
(`engine.lenet.digits.preprocess_digit`).

    python scripts/make_drawn_digits.py            # writes engine/lenet/data/drawn_digits.npz

Deterministic (seeded); stores 28x28 uint8 images (ink high), labels, the hand of each and its drawing
parameters. tests/test_lenet_drawn_digits.py prints LeNet's accuracy on it.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from engine.lenet.digits import preprocess_digit

OUT = Path(__file__).resolve().parent.parent / "engine" / "lenet" / "data" / "drawn_digits.npz"
PAD = 280  # the LeNet page's pad, in canvas pixels
# The page's stroke rule (draw-pad.js STROKE_OF_BOX, MIN/MAX_STROKE_FRACTION): the pen's width is this share of
# the drawing's longer side (centre lines), within these shares of the pad.
STROKE_OF_BOX = 0.14
MIN_STROKE_FRACTION = 1 / 40
MAX_STROKE_FRACTION = 1 / 9
PER_HAND_AND_DIGIT = 10

Point = tuple[float, float]
Stroke = list[Point]


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 24) -> Stroke:
    """Points of an elliptic arc; angles in degrees, 0 to the right, 90 downwards (y grows down)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, steps)]


def line(*points: Point) -> Stroke:
    return list(points)


def smooth(points: Stroke, per_segment: int = 6) -> Stroke:
    """A Catmull-Rom curve through the points (a hand's curves from a few control points)."""
    if len(points) < 3:
        return points
    p = [points[0], *points, points[-1]]
    out: Stroke = []
    for i in range(1, len(p) - 2):
        for t in np.linspace(0, 1, per_segment, endpoint=False):
            t2, t3 = t * t, t * t * t
            out.append(tuple(0.5 * ((2 * p[i][k]) + (-p[i - 1][k] + p[i + 1][k]) * t
                                    + (2 * p[i - 1][k] - 5 * p[i][k] + 4 * p[i + 1][k] - p[i + 2][k]) * t2
                                    + (-p[i - 1][k] + 3 * p[i][k] - 3 * p[i + 1][k] + p[i + 2][k]) * t3)
                             for k in (0, 1)))
    out.append(points[-1])
    return out


# --- the hands: strokes in a unit box, x to the right, y downwards -----------------------------------------

def print_hand() -> dict[int, list[Stroke]]:
    return {
        0: [arc(0.5, 0.5, 0.3, 0.46, -90, 275)],
        1: [line((0.5, 0.04), (0.5, 0.96))],
        2: [arc(0.5, 0.3, 0.28, 0.25, 195, 370) + smooth([(0.77, 0.38), (0.55, 0.62), (0.2, 0.95)]),
            line((0.2, 0.95), (0.84, 0.95))],
        3: [arc(0.48, 0.28, 0.27, 0.23, -160, 95) + arc(0.48, 0.73, 0.31, 0.23, -90, 160)],
        4: [line((0.62, 0.04), (0.14, 0.64), (0.86, 0.64)), line((0.64, 0.32), (0.64, 0.96))],
        5: [line((0.8, 0.05), (0.28, 0.05), (0.24, 0.45)) + arc(0.5, 0.67, 0.3, 0.28, -125, 150)],
        6: [smooth([(0.72, 0.04), (0.42, 0.25), (0.24, 0.6)]) + arc(0.5, 0.7, 0.27, 0.26, 180, 535)],
        7: [line((0.14, 0.05), (0.86, 0.05), (0.38, 0.96))],
        8: [arc(0.5, 0.26, 0.22, 0.22, 90, 450), arc(0.5, 0.71, 0.28, 0.25, -90, 270)],
        9: [arc(0.48, 0.3, 0.27, 0.26, 0, 362), line((0.75, 0.3), (0.7, 0.96))],
    }


def school_hand() -> dict[int, list[Stroke]]:
    return {
        0: [arc(0.5, 0.5, 0.26, 0.46, -100, 262)],
        1: [line((0.28, 0.22), (0.56, 0.04), (0.56, 0.96)), line((0.34, 0.96), (0.78, 0.96))],
        2: [smooth([(0.2, 0.22), (0.48, 0.04), (0.78, 0.22), (0.66, 0.52), (0.2, 0.94)]),
            line((0.2, 0.94), (0.86, 0.92))],
        3: [line((0.18, 0.05), (0.8, 0.05), (0.42, 0.42)) + arc(0.5, 0.68, 0.3, 0.27, -100, 155)],
        4: [line((0.2, 0.04), (0.16, 0.56), (0.86, 0.56)), line((0.68, 0.04), (0.68, 0.96))],
        5: [line((0.26, 0.05), (0.22, 0.44)) + arc(0.5, 0.67, 0.3, 0.28, -130, 150), line((0.26, 0.05), (0.82, 0.05))],
        6: [arc(0.52, 0.5, 0.3, 0.46, -60, -180) + arc(0.5, 0.7, 0.28, 0.26, 180, 535)],
        7: [line((0.14, 0.05), (0.86, 0.05), (0.42, 0.96)), line((0.38, 0.5), (0.78, 0.5))],
        8: [smooth([(0.7, 0.14), (0.5, 0.04), (0.28, 0.2), (0.5, 0.47), (0.76, 0.72), (0.5, 0.96), (0.24, 0.72),
                    (0.5, 0.47), (0.72, 0.22), (0.7, 0.14)])],
        9: [arc(0.48, 0.28, 0.28, 0.25, -10, 355), smooth([(0.76, 0.26), (0.72, 0.7), (0.52, 0.96)])],
    }


def round_hand() -> dict[int, list[Stroke]]:
    return {
        0: [arc(0.52, 0.5, 0.34, 0.45, -80, 290)],
        1: [smooth([(0.38, 0.16), (0.52, 0.06), (0.5, 0.5), (0.48, 0.96)])],
        2: [smooth([(0.18, 0.3), (0.42, 0.05), (0.76, 0.2), (0.6, 0.55), (0.26, 0.86), (0.38, 0.9)])
            + smooth([(0.38, 0.9), (0.55, 0.98), (0.86, 0.9)])],
        3: [smooth([(0.2, 0.14), (0.55, 0.04), (0.74, 0.24), (0.42, 0.48), (0.78, 0.7), (0.55, 0.96), (0.18, 0.86)])],
        4: [smooth([(0.56, 0.04), (0.3, 0.4), (0.14, 0.66)]) + line((0.14, 0.66), (0.88, 0.62)),
            smooth([(0.62, 0.3), (0.64, 0.7), (0.66, 0.96)])],
        5: [smooth([(0.3, 0.06), (0.26, 0.46), (0.62, 0.4), (0.8, 0.66), (0.56, 0.95), (0.2, 0.86)]),
            smooth([(0.3, 0.06), (0.55, 0.03), (0.84, 0.06)])],
        6: [smooth([(0.74, 0.08), (0.44, 0.12), (0.24, 0.5), (0.3, 0.88), (0.62, 0.92), (0.76, 0.68), (0.52, 0.5),
                    (0.28, 0.62)])],
        7: [smooth([(0.16, 0.1), (0.46, 0.04), (0.86, 0.06)]) + smooth([(0.86, 0.06), (0.6, 0.45), (0.46, 0.96)])],
        8: [arc(0.5, 0.27, 0.24, 0.23, 60, 420), arc(0.5, 0.72, 0.3, 0.24, -90, 272)],
        9: [smooth([(0.74, 0.16), (0.5, 0.04), (0.24, 0.24), (0.44, 0.5), (0.74, 0.3), (0.74, 0.16)])
            + smooth([(0.74, 0.16), (0.72, 0.6), (0.62, 0.96)])],
    }


def hurried_hand() -> dict[int, list[Stroke]]:
    return {
        0: [arc(0.5, 0.5, 0.2, 0.47, -120, 250)],
        1: [line((0.56, 0.03), (0.44, 0.97))],
        2: [smooth([(0.24, 0.18), (0.5, 0.04), (0.7, 0.22), (0.56, 0.56), (0.26, 0.96)]),
            line((0.26, 0.96), (0.78, 0.93))],
        3: [smooth([(0.26, 0.1), (0.6, 0.06), (0.62, 0.36), (0.4, 0.48), (0.7, 0.62), (0.6, 0.94), (0.24, 0.9)])],
        4: [line((0.5, 0.04), (0.2, 0.62), (0.8, 0.6)), line((0.62, 0.28), (0.6, 0.97))],
        5: [line((0.74, 0.05), (0.34, 0.06), (0.3, 0.44)) + arc(0.5, 0.68, 0.24, 0.27, -130, 150)],
        6: [smooth([(0.66, 0.04), (0.36, 0.36), (0.3, 0.8), (0.5, 0.96), (0.68, 0.76), (0.5, 0.56), (0.32, 0.68)])],
        7: [line((0.2, 0.06), (0.8, 0.04)) + smooth([(0.8, 0.04), (0.6, 0.5), (0.5, 0.97)])],
        8: [smooth([(0.66, 0.1), (0.46, 0.04), (0.32, 0.22), (0.5, 0.46), (0.7, 0.7), (0.52, 0.96), (0.32, 0.74),
                    (0.5, 0.46), (0.66, 0.24), (0.66, 0.1)])],
        9: [arc(0.48, 0.26, 0.22, 0.22, -20, 350), line((0.7, 0.2), (0.56, 0.97))],
    }


HANDS = {"print": print_hand(), "school": school_hand(), "round": round_hand(), "hurried": hurried_hand()}


# --- drawing ---------------------------------------------------------------------------------------------------

def stroke_width(strokes: list[np.ndarray], pen: str = "size") -> float:
    """The page's pen width for this drawing (draw-pad.js strokeWidth); pen "fixed": the old pad's 1/12 of the
    pad whatever the drawing's size (for comparison)."""
    if pen == "fixed":
        return PAD / 12
    points = np.concatenate(strokes)
    side = float((points.max(axis=0) - points.min(axis=0)).max())
    return float(np.clip(STROKE_OF_BOX * side, PAD * MIN_STROKE_FRACTION, PAD * MAX_STROKE_FRACTION))


def render(strokes: list[np.ndarray], width: float) -> np.ndarray:
    """Strokes (pad pixels) drawn with a round pen of `width`, anti-aliased (4x supersampling): ink 0..1."""
    scale = 4
    img = Image.new("L", (PAD * scale, PAD * scale), 0)
    draw = ImageDraw.Draw(img)
    r = width * scale / 2
    for stroke in strokes:
        pts = [(float(x) * scale, float(y) * scale) for x, y in stroke]
        if len(pts) > 1:
            draw.line(pts, fill=255, width=max(1, round(width * scale)), joint="curve")
        for x, y in (pts[0], pts[-1]):  # round caps
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    small = img.resize((PAD, PAD), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def draw_digit(strokes: list[Stroke], rng: np.random.Generator,
               pen: str = "size") -> tuple[np.ndarray, dict[str, float]]:
    """One drawing of a digit's strokes: size, aspect, slant, rotation, wobble, place and pen width at random."""
    params = {
        "height": float(rng.uniform(0.25, 0.9)),  # of the pad
        "aspect": float(rng.uniform(0.8, 1.2)),
        "slant": float(rng.uniform(-0.3, 0.3)),  # x shifts by slant·(0.5 − y): positive leans right
        "rotation": float(rng.uniform(-12, 12)),  # degrees
        "wobble": float(rng.uniform(0.0, 0.02)),
        "width_factor": float(rng.uniform(0.75, 1.35)),
    }
    height = params["height"] * PAD
    theta = math.radians(params["rotation"])
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    shaped = []
    for stroke in strokes:
        p = np.asarray(stroke, dtype=np.float64)
        p = p + rng.normal(0.0, params["wobble"], size=p.shape)
        x = (p[:, 0] - 0.5) * params["aspect"] + params["slant"] * (0.5 - p[:, 1])
        y = p[:, 1] - 0.5
        shaped.append((np.stack([x, y], axis=1) @ rot.T) * height)
    points = np.concatenate(shaped)
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.04 * PAD
    # Anywhere on the pad that keeps the whole digit on it.
    offset = np.array([rng.uniform(margin - low[k], PAD - margin - high[k]) for k in (0, 1)])
    placed = [s + offset for s in shaped]
    width = stroke_width(placed, pen) * params["width_factor"]
    params["stroke_width"] = width
    params["x"], params["y"] = float(offset[0] / PAD), float(offset[1] / PAD)
    return render(placed, width), params


def build(per: int = PER_HAND_AND_DIGIT, seed: int = 21, pen: str = "size") -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    images, labels, hands, params = [], [], [], []
    for h, (_, hand) in enumerate(HANDS.items()):
        for digit in range(10):
            for _ in range(per):
                ink, p = draw_digit(hand[digit], rng, pen)
                image = preprocess_digit(ink)
                assert image is not None
                images.append(np.round(image * 255).astype(np.uint8))
                labels.append(digit)
                hands.append(h)
                params.append([p[k] for k in PARAM_NAMES])
    return {"images": np.stack(images), "labels": np.asarray(labels, dtype=np.uint8),
            "hands": np.asarray(hands, dtype=np.uint8), "hand_names": np.asarray(list(HANDS)),
            "params": np.asarray(params, dtype=np.float32), "param_names": np.asarray(PARAM_NAMES)}


PARAM_NAMES = ["height", "aspect", "slant", "rotation", "wobble", "width_factor", "stroke_width", "x", "y"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--per", type=int, default=PER_HAND_AND_DIGIT, help="drawings per hand and digit")
    parser.add_argument("--sheet", type=Path, help="also write a contact sheet PNG of every digit")
    parser.add_argument("--pen", choices=["size", "fixed"], default="size",
                        help="size: the page's pen (width follows the drawing); fixed: the old 1/12-of-the-pad pen")
    args = parser.parse_args()
    data = build(args.per, pen=args.pen)
    np.savez_compressed(args.out, allow_pickle=False, **data)
    print(f"{len(data['labels'])} drawn digits ({len(HANDS)} hands × 10 digits × {args.per}) → {args.out} "
          f"({args.out.stat().st_size:,} bytes)")
    if args.sheet:
        n = len(data["images"])
        cols = 40
        rows = math.ceil(n / cols)
        sheet = np.zeros((rows * 28, cols * 28), dtype=np.uint8)
        for i, im in enumerate(data["images"]):
            sheet[(i // cols) * 28:(i // cols + 1) * 28, (i % cols) * 28:(i % cols + 1) * 28] = im
        Image.fromarray(sheet).resize((cols * 56, rows * 56), Image.Resampling.NEAREST).save(args.sheet)


if __name__ == "__main__":
    main()
