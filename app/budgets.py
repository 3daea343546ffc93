"""Memory and work budgets of sessions: the engine's estimates (engine/core/budget.py) against the settings.

`check(cost, settings, store, session)` refuses with 413 naming the setting when a session would need more
memory than one session may have, more than the server has left once idle sessions are dropped, or more work
per step or per evaluation than the settings allow. Routes call it after building the cheap parts of a session
(the network's parameters are already bounded by max_parameters) and before the expensive ones: data sets,
evaluations, training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.budget import Cost, dense_cost, lenet_cost, transformer_cost
from engine.dense.datasets import Dataset
from engine.dense.trainer import Trainer

from .errors import too_large
from .settings import Settings
from .store import Session, SessionStore

MIB = 2**20


def check(cost: Cost, settings: Settings, store: SessionStore | None = None, session: Session | None = None) -> None:
    if cost.bytes > settings.max_session_bytes:
        raise too_large("the session's memory (MiB, estimated: parameters, optimiser slots, data, the arrays a "
                        "step or an evaluation keeps)", round(cost.bytes / MIB), settings.max_session_bytes // MIB,
                        "max_session_bytes")
    if cost.step_work > settings.max_step_work:
        raise too_large("the work of one training step (multiply-adds: batch size × model size); make the batch "
                        "or the model smaller", cost.step_work, settings.max_step_work, "max_step_work")
    if cost.eval_work > settings.max_eval_work:
        raise too_large("the work of one evaluation (multiply-adds: data points or held-out sequences × model "
                        "size); make the data, the held-out set or the model smaller", cost.eval_work,
                        settings.max_eval_work, "max_eval_work")
    if store is not None:
        store.reserve(cost.held, session)


def network_cost(trainer: Trainer, data: Dataset | None = None, batch_size: int | None = None) -> Cost:
    data = data if data is not None else trainer.data
    net = trainer.net
    widths = [int(np.prod(shape)) for shape in net.output_shapes()]
    raw_width = int(np.prod(data.x_train.shape[1:])) if data is not None else int(np.prod(net.input_shape))
    return dense_cost(
        num_params=net.num_params, widths=widths, input_width=int(np.prod(net.input_shape)),
        itemsize=net.dtype.itemsize, optimizer=trainer.optimizer.name,
        batch_size=int(batch_size if batch_size is not None else trainer.spec["batch_size"]),
        num_train=len(data.x_train) if data is not None else 0, num_test=len(data.x_test) if data is not None else 0,
        raw_width=raw_width)


def rows_cost(trainer: Trainer, rows: int) -> Cost:
    """A forward/backward/step request on `rows` given data points."""
    return network_cost(trainer, data=None, batch_size=rows)


def transformer_session_cost(trainer: Any) -> Cost:
    """A TransformerTrainer built but not yet evaluated (its model and held-out token ids exist; nothing big)."""
    c = trainer.model.config
    held = trainer.held_out
    input_len = int(held.inputs.shape[1])
    source_len = int(held.src.shape[1]) if held.src is not None else 0
    stacks = 2 if c.arch == "encoder-decoder" else 1
    attention_layers = c.layers * (3 if c.arch == "encoder-decoder" else 1)
    return transformer_cost(
        num_params=trainer.model.num_params, d_model=c.d_model, heads=c.heads, d_ff=c.d_ff if c.ffn else 0,
        attention_layers=attention_layers, blocks=c.layers * stacks, input_len=input_len, source_len=source_len,
        out_vocab=c.out_vocab, itemsize=trainer.model.dtype.itemsize, batch_size=trainer.batch_size,
        held_out=trainer.held_out_size, decodes=trainer.task.mode in ("seq2seq", "generate"))


def charlm_session_cost(trainer: Any) -> Cost:
    """A CharLMTrainer: a decoder-only transformer on windows of its context, evaluated on `eval_windows` held-out
    windows, holding its text (a string and its ids) unless it trains on the shipped corpus, which is shared."""
    c = trainer.model.config
    t = trainer.settings["train"]
    cost = transformer_cost(
        num_params=trainer.model.num_params, d_model=c.d_model, heads=c.heads, d_ff=c.d_ff, attention_layers=c.layers,
        blocks=c.layers, input_len=c.context, source_len=0, out_vocab=len(trainer.vocab),
        itemsize=np.dtype(c.dtype).itemsize, batch_size=int(t["batch_size"]), held_out=int(t["eval_windows"]),
        decodes=False)
    text = 0 if trainer.on_corpus else 2 * len(trainer.text) + trainer.train_ids.nbytes + trainer.val_ids.nbytes
    return Cost(bytes=cost.bytes + text, held=cost.held + text, step_work=cost.step_work, eval_work=cost.eval_work)


def lenet_session_cost(batch_size: int, test_images: int) -> Cost:
    return lenet_cost(batch_size, test_images)
