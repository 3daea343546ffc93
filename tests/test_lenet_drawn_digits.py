"""LeNet on digits drawn from strokes (scripts/make_drawn_digits.py: four hands, random sizes, slants, rotations,
positions and stroke widths, rendered with the page's pen and preprocessed as the page's drawings are).
Prints the accuracy; fails below 97 %."""

from pathlib import Path

import numpy as np

from engine.lenet.model import LeNet5

DRAWN = Path(__file__).resolve().parent.parent / "engine" / "lenet" / "data" / "drawn_digits.npz"


def test_lenet_reads_drawn_digits_at_least_97_percent(capsys):
    with np.load(DRAWN, allow_pickle=False) as data:
        images, labels, hands = data["images"], data["labels"], data["hands"]
        names, params, param_names = list(data["hand_names"]), data["params"], list(data["param_names"])
    assert images.shape == (400, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [40] * 10
    predicted = LeNet5.load().predict(images[:, None].astype(np.float32) / 255.0)
    right = predicted == labels
    height = params[:, param_names.index("height")]
    lines = [f"LeNet-5 on {len(labels)} drawn digits: {right.mean():.2%} right ({right.sum()} of {len(labels)})"]
    lines += [f"  hand {name}: {right[hands == h].mean():.1%}" for h, name in enumerate(names)]
    for low, high, what in ((0.25, 0.45, "small"), (0.45, 0.65, "medium"), (0.65, 0.91, "large")):
        chosen = (height >= low) & (height < high)
        lines.append(f"  {what} ({low:.0%}–{high:.0%} of the pad): {right[chosen].mean():.1%} of {chosen.sum()}")
    misses = [f"{labels[i]}→{predicted[i]}" for i in np.flatnonzero(~right)]
    lines.append(f"  misses: {', '.join(misses) or 'none'}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert right.mean() >= 0.97, lines


def test_the_set_uses_the_pads_pen():
    """The script renders with the page's stroke rule: the constants in draw-pad.js and the script agree."""
    import re
    import sys

    root = DRAWN.parents[3]
    js = (root / "static" / "js" / "lib" / "draw-pad.js").read_text()
    sys.path.insert(0, str(root / "scripts"))
    try:
        import make_drawn_digits as script
    finally:
        sys.path.pop(0)

    def constant(name: str) -> float:
        expression = re.search(rf"export const {name} = ([\d./ ]+);", js).group(1)
        numerator, _, denominator = expression.partition("/")
        return float(numerator) / float(denominator or 1)

    assert constant("STROKE_OF_BOX") == script.STROKE_OF_BOX
    assert constant("MIN_STROKE_FRACTION") == script.MIN_STROKE_FRACTION
    assert constant("MAX_STROKE_FRACTION") == script.MAX_STROKE_FRACTION
    assert script.PAD == 280  # the LeNet page's pad (templates/lenet.html)
