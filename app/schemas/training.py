"""The one metrics record every trainer's history holds (engine/core/training.py MetricsRecord)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MetricsRecord(BaseModel):
    """One entry of a training history, the same fields for every kind of network (null where a field does not
    apply or was not measured at this point)."""

    step: int = Field(description="Optimiser steps taken when this was recorded")
    epoch: float | None = Field(None, description="Passes over the training data (with the fraction of the current "
                                                  "one where it applies); null where every batch is fresh")
    train_loss: float | None = Field(None, description="The training objective: over the whole training set (dense "
                                                       "networks) or the mean over the batches since the last record")
    test_loss: float | None = Field(None, description="Loss on held-out data")
    train_accuracy: float | None = Field(None, description="Share of training examples classified right")
    test_accuracy: float | None = Field(None, description="Share of held-out examples right (a transformer: whole "
                                                          "sequences right)")
    learning_rate: float | None = Field(None, description="The learning rate in force (after any schedule)")
    time: float = Field(description="When it was recorded, seconds since the Unix epoch")
    extra: dict[str, float | None] = Field(default_factory=dict, description="What only one kind of trainer "
                                           "measures, by name (a transformer: sequence_accuracy, token_accuracy)")
