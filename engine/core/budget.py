"""What a session will cost, estimated before it allocates its big arrays or runs a step.

Three numbers per session (`Cost`): the bytes it holds while training (parameters, gradients, optimiser slots,
the checkpoint that undoes a diverged step, data, and the per-example arrays a step keeps for its backward
pass, or an evaluation keeps for its forward pass, whichever is larger), the work of one optimiser step and
the work of one evaluation (a history record), both in multiply-adds. A server compares them with its limits
before building the data sets, recording metrics or training, so that an oversized request is refused in
milliseconds instead of after minutes and gigabytes.

The estimates are upper bounds of the dominant terms, not exact counts: what matters is that they grow like the
real costs (linearly in the batch, the data and the parameters; quadratically in the sequence length for
attention), so a limit on them bounds memory and time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Optimiser state arrays per parameter array.
OPTIMISER_SLOTS = {"sgd": 0, "momentum": 1, "adam": 2}
# A backward pass keeps each layer's input and output and computes their gradients.
STEP_ARRAYS_PER_VALUE = 3
# Forward + backward of a layer ≈ three forward passes of multiply-adds (one for the output, two for the
# gradients of the input and of the weights).
STEP_WORK_FACTOR = 3
# LeNet-5's multiply-adds per 28×28 digit: conv1 28·28·6·25 + conv2 10·10·16·150 + fc 400·120 + 120·84 + 84·10.
LENET_MACS_PER_IMAGE = 117_600 + 240_000 + 48_000 + 10_080 + 840
# Measured on the development machine: LeNet's small im2col convolutions, pooling and augmentation run at about
# a tenth of the rate of the large matrix products of dense and transformer layers (a batch of 1024 digits took
# 1.0 s against 0.09 s for as many multiply-adds of a transformer), so its work counts ten times.
LENET_WORK_WEIGHT = 10
# Floats one digit occupies in LeNet-5's forward trace (feature maps, im2col windows, pooling indices).
LENET_FLOATS_PER_IMAGE = 6 * 28 * 28 * 3 + 28 * 28 * 25 + 6 * 14 * 14 * 2 + 16 * 10 * 10 * 3 + 10 * 10 * 150 \
    + 16 * 5 * 5 * 2 + 120 * 3 + 84 * 3 + 10 * 3
LENET_PARAMS = 61_706


@dataclass(frozen=True)
class Cost:
    """Bytes at the peak of a step or an evaluation, bytes held between requests, and multiply-adds of one step
    and of one evaluation."""

    bytes: int
    held: int
    step_work: int
    eval_work: int


def parameter_bytes(num_params: int, itemsize: int, optimizer: str) -> int:
    """Parameters, their gradients, the optimiser's slots, and a checkpoint of parameters and slots."""
    slots = OPTIMISER_SLOTS.get(optimizer, max(OPTIMISER_SLOTS.values()))
    return num_params * itemsize * (2 + 2 * slots + 1)


def dense_cost(num_params: int, widths: Sequence[int], input_width: int, itemsize: int, optimizer: str,
               batch_size: int, num_train: int, num_test: int, raw_width: int = 2) -> Cost:
    """A dense (or any Sequential) network.

    widths: each layer's output size per example; input_width: the network's input size per example (feature
    columns); raw_width: numbers per data point as given (before features); num_train / num_test: data points.
    """
    per_example = input_width + sum(widths)
    widest = max([input_width, *widths])
    step_rows = min(batch_size, num_train) if num_train else batch_size
    step = step_rows * per_example * itemsize * STEP_ARRAYS_PER_VALUE
    # An evaluation runs the whole training (or test) set in one pass without keeping a trace: two layers'
    # outputs live at a time, plus the loss's copy of the output.
    evaluation = max(num_train, num_test) * widest * itemsize * 3
    # The points as given (float64) and labels, and the training set as the network reads it (its dtype).
    data = (num_train + num_test) * (raw_width + 1) * 8 + num_train * (input_width + widths[-1] if widths else 0) \
        * itemsize
    kept = parameter_bytes(num_params, itemsize, optimizer) + data
    return Cost(bytes=kept + max(step, evaluation), held=kept + step,
                step_work=STEP_WORK_FACTOR * step_rows * num_params,
                eval_work=(num_train + num_test) * num_params)


def transformer_cost(num_params: int, d_model: int, heads: int, d_ff: int, attention_layers: int,
                     blocks: int, input_len: int, source_len: int, out_vocab: int, itemsize: int,
                     batch_size: int, held_out: int, decodes: bool) -> Cost:
    """A transformer trained with Adam on batches of `batch_size` sequences, evaluated on `held_out` ones.

    input_len / source_len: tokens the main stack / the encoder read (0 without an encoder); attention_layers:
    self- and cross-attention layers in all; blocks: transformer blocks in all; decodes: the evaluation writes
    its answers token by token (greedy decoding re-runs the stack once per answer position).
    """
    tokens = input_len + source_len
    longest = max(input_len, source_len)
    # Per sequence: every projection and feed-forward weight once per token, plus Q·Kᵀ and weights·V.
    forward_work = tokens * num_params + attention_layers * 2 * longest * longest * d_model
    # Per sequence, what the forward trace keeps for the backward pass: per block about ten d_model-vectors and
    # two d_ff-vectors per token; per attention layer five (heads, T, T) score stages; the logits and their
    # softmax and gradient.
    floats = blocks * tokens * (10 * d_model + 2 * d_ff) + attention_layers * 5 * heads * longest * longest \
        + 3 * input_len * out_vocab
    trace_bytes = floats * itemsize
    # Greedy decoding of an untrained model re-reads the answer so far at every position: about half the
    # sequence's length in full passes.
    eval_passes = 1 + (input_len // 2 if decodes else 0)
    kept = parameter_bytes(num_params, itemsize, "adam")
    return Cost(bytes=kept + max(batch_size, held_out) * trace_bytes, held=kept + batch_size * trace_bytes,
                step_work=STEP_WORK_FACTOR * batch_size * forward_work,
                eval_work=held_out * forward_work * eval_passes)


def lenet_cost(batch_size: int, test_images: int) -> Cost:
    """A LeNet-5 training session (Adam; float32) with its own snapshot copy for predictions. The digits are
    shared by every session and not counted."""
    params = parameter_bytes(LENET_PARAMS, 4, "adam") + LENET_PARAMS * 4
    trace = max(batch_size, test_images) * LENET_FLOATS_PER_IMAGE * 4
    work = LENET_MACS_PER_IMAGE * LENET_WORK_WEIGHT
    return Cost(bytes=params + trace, held=params + batch_size * LENET_FLOATS_PER_IMAGE * 4,
                step_work=STEP_WORK_FACTOR * batch_size * work,
                eval_work=test_images * work)
