"""Transformer layers and models: gradient checks, the attention maths, masks, tasks, training."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import EngineError
from engine.core.gradcheck import check_layer, numerical_gradient, relative_error
from engine.dense.trainer import DivergedError
from engine.transformer.layers import (
    CrossAttention,
    Embedding,
    FeedForward,
    LayerNorm,
    LearnedPositionalEncoding,
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    causal_mask,
    sinusoid_table,
)
from engine.transformer.model import Transformer, TransformerConfig
from engine.transformer.tasks import PRESETS, Brackets, Induction, Reverse, Sort, make_task
from engine.transformer.trainer import TransformerTrainer, warmup_scale

TOL = 1e-6
F64 = np.float64


def assert_small(errors: dict[str, float]) -> None:
    bad = {k: v for k, v in errors.items() if not v < TOL}
    assert not bad, f"relative errors over {TOL}: {bad}"


# --- gradient checks, layer by layer ----------------------------------------------------------


def test_layer_norm_gradients():
    rng = np.random.default_rng(1)
    assert_small(check_layer(LayerNorm(8, dtype=F64), rng.normal(size=(2, 5, 8))))


def test_feed_forward_gradients():
    rng = np.random.default_rng(2)
    assert_small(check_layer(FeedForward(6, 10, rng=rng, dtype=F64), rng.normal(size=(2, 4, 6))))


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_gradients(causal):
    rng = np.random.default_rng(3)
    layer = MultiHeadAttention(8, 2, causal=causal, rng=rng, dtype=F64)
    errors = check_layer(layer, rng.normal(size=(2, 5, 8)))
    assert set(errors) == {"input", "q_weight", "q_bias", "k_weight", "v_weight", "v_bias", "out_weight", "out_bias"}
    assert_small(errors)


def test_cross_attention_gradients_for_queries_context_and_parameters():
    rng = np.random.default_rng(4)
    layer = CrossAttention(6, 3, rng=rng, dtype=F64)
    x, context = rng.normal(size=(2, 3, 6)), rng.normal(size=(2, 5, 6))
    r = rng.normal(size=(2, 3, 6))

    def f() -> float:
        return float((layer.forward(x, context) * r).sum())

    layer.forward(x, context)
    dx, dcontext = layer.backward(r)  # two inputs: one gradient each, in forward's order
    grads = {k: v.copy() for k, v in layer.grads.items()}
    assert relative_error(dx, numerical_gradient(f, x)) < TOL
    assert relative_error(dcontext, numerical_gradient(f, context)) < TOL
    for name, p in layer.params.items():
        assert relative_error(grads[name], numerical_gradient(f, p)) < TOL, name


def test_positional_encoding_gradients():
    rng = np.random.default_rng(5)
    assert_small(check_layer(LearnedPositionalEncoding(7, 4, rng=rng, dtype=F64), rng.normal(size=(3, 5, 4))))
    assert_small(check_layer(SinusoidalPositionalEncoding(7, 4, dtype=F64), rng.normal(size=(3, 5, 4))))


def test_embedding_gradient_sums_repeated_tokens():
    rng = np.random.default_rng(6)
    layer = Embedding(5, 4, rng=rng, dtype=F64)
    tokens = np.array([[0, 3, 3, 1], [4, 3, 0, 0]])
    r = rng.normal(size=(2, 4, 4))

    def f() -> float:
        return float((layer.forward(tokens) * r).sum())

    layer.forward(tokens)
    dtokens = layer.backward(r)  # token ids are discrete: nothing flows below an embedding
    assert dtokens.shape == tokens.shape and not dtokens.any()
    assert relative_error(layer.grads["weight"], numerical_gradient(f, layer.params["weight"])) < TOL
    assert np.all(layer.grads["weight"][2] == 0)  # token 2 never appears
    with pytest.raises(EngineError, match="between 0 and 4"):
        layer.forward(np.array([[5]]))


def test_every_layer_returns_its_input_gradient_in_the_one_documented_form():
    """backward returns an array shaped like the input; two inputs give one such array each, in forward's order."""
    rng = np.random.default_rng(12)
    x, context = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    single = [(Embedding(6, 4, rng=rng, dtype=F64), rng.integers(0, 6, size=(2, 3))),
              (SinusoidalPositionalEncoding(8, 4, dtype=F64), x),
              (LearnedPositionalEncoding(8, 4, rng=rng, dtype=F64), x),
              (LayerNorm(4, dtype=F64), x), (MultiHeadAttention(4, 2, causal=True, rng=rng, dtype=F64), x),
              (FeedForward(4, 6, rng=rng, dtype=F64), x)]
    for layer, inputs in single:
        grad = layer.backward(np.ones_like(layer.forward(inputs), dtype=F64))
        assert isinstance(grad, np.ndarray) and grad.shape == inputs.shape, layer.type
    cross = CrossAttention(4, 2, rng=rng, dtype=F64)
    dx, dcontext = cross.backward(np.ones_like(cross.forward(x, context)))
    assert dx.shape == x.shape and dcontext.shape == context.shape


def gradcheck_model(model: Transformer, tokens: np.ndarray, src: np.ndarray | None, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    r = rng.normal(size=(*tokens.shape, model.config.out_vocab))

    def f() -> float:
        return float((model.forward(tokens, src) * r).sum())

    model.forward(tokens, src)
    model.backward(r)
    analytic = {f"{i}.{n}": layer.grads[n].copy() for i, layer in enumerate(model.layers()) for n in layer.params}
    for i, layer in enumerate(model.layers()):
        for name, p in layer.params.items():
            err = relative_error(analytic[f"{i}.{name}"], numerical_gradient(f, p))
            assert err < TOL, f"{i} {layer.type}.{name}: {err}"


def test_whole_encoder_decoder_gradients():
    config = TransformerConfig(arch="encoder-decoder", src_vocab=5, tgt_vocab=6, out_vocab=4, max_len=5, d_model=4,
                               heads=2, layers=2, d_ff=6, positional="learned", dtype="float64", seed=3)
    model = Transformer(config)
    rng = np.random.default_rng(7)
    gradcheck_model(model, rng.integers(0, 6, (2, 3)), rng.integers(0, 5, (2, 4)))


@pytest.mark.parametrize("arch,norm,ffn", [("decoder", "pre", True), ("encoder", "none", False)])
def test_single_stack_model_gradients(arch, norm, ffn):
    config = TransformerConfig(arch=arch, tgt_vocab=5, out_vocab=3, max_len=5, d_model=4, heads=2, layers=2, d_ff=6,
                               norm=norm, ffn=ffn, dtype="float64", seed=4)
    gradcheck_model(Transformer(config), np.random.default_rng(8).integers(0, 5, (2, 4)), None)


# --- the attention maths --------------------------------------------------------------------


def test_trace_stages_match_the_formula():
    """Q = xW_q + b_q, …; raw = QKᵀ; scaled = raw/√d_k; masked adds −∞ above the diagonal; softmax; ·V."""
    rng = np.random.default_rng(9)
    layer = MultiHeadAttention(8, 2, causal=True, rng=rng, dtype=F64)
    x = rng.normal(size=(1, 4, 8))
    out = layer.forward(x)
    t = layer.trace()
    p = layer.params
    q = (x[0] @ p["q_weight"] + p["q_bias"]).reshape(4, 2, 4)
    k = (x[0] @ p["k_weight"]).reshape(4, 2, 4)
    v = (x[0] @ p["v_weight"] + p["v_bias"]).reshape(4, 2, 4)
    for h in range(2):
        raw = q[:, h] @ k[:, h].T
        np.testing.assert_allclose(t["q"][0, h], q[:, h])
        np.testing.assert_allclose(t["raw"][0, h], raw)
        np.testing.assert_allclose(t["scaled"][0, h], raw / 2.0)  # √d_k = √4
        expected_masked = np.where(np.triu(np.ones((4, 4)), 1) > 0, -np.inf, raw / 2.0)
        np.testing.assert_array_equal(t["masked"][0, h], expected_masked)
        e = np.exp(expected_masked - expected_masked.max(axis=1, keepdims=True))
        weights = e / e.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(t["weights"][0, h], weights)
        np.testing.assert_allclose(t["head_out"][0, h], weights @ v[:, h])
    concat = np.concatenate([t["head_out"][0, h] for h in range(2)], axis=1)
    np.testing.assert_allclose(out[0], concat @ p["out_weight"] + p["out_bias"])


def test_causal_weights_are_exactly_zero_above_the_diagonal_and_rows_sum_to_one():
    rng = np.random.default_rng(10)
    layer = MultiHeadAttention(16, 4, causal=True, rng=rng, dtype=np.float32)
    out = layer.forward(rng.normal(size=(3, 7, 16)).astype(np.float32))
    w = layer.weights
    above = np.triu(np.ones((7, 7), dtype=bool), 1)
    assert np.all(w[..., above] == 0.0)
    assert np.all(w[..., ~above] > 0)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, atol=1e-6)
    assert out.dtype == np.float32 and w.dtype == np.float32  # no silent up-casting
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(causal_mask(2, 2), [[0, -np.inf], [0, 0]])


def test_cross_attention_rows_sum_to_one_over_the_source():
    rng = np.random.default_rng(11)
    layer = CrossAttention(8, 2, rng=rng, dtype=np.float32)
    layer.forward(rng.normal(size=(2, 3, 8)).astype(np.float32), rng.normal(size=(2, 6, 8)).astype(np.float32))
    assert layer.weights.shape == (2, 2, 3, 6)
    np.testing.assert_allclose(layer.weights.sum(axis=-1), 1.0, atol=1e-6)
    with pytest.raises(EngineError, match="context"):
        layer.forward(np.zeros((1, 2, 8), np.float32))


def test_sinusoid_table_is_the_papers():
    table = sinusoid_table(10, 6, np.float64)
    assert table[1, 0] == pytest.approx(np.sin(1))
    assert table[1, 1] == pytest.approx(np.cos(1))
    assert table[3, 2] == pytest.approx(np.sin(3 / 10000 ** (2 / 6)))
    assert table[3, 5] == pytest.approx(np.cos(3 / 10000 ** (4 / 6)))
    with pytest.raises(EngineError, match="at most 10"):
        SinusoidalPositionalEncoding(10, 6).forward(np.zeros((1, 11, 6), np.float32))


def test_layer_norm_output_has_zero_mean_and_unit_variance():
    x = np.random.default_rng(12).normal(3, 4, size=(5, 16)).astype(np.float32)
    y = LayerNorm(16).forward(x)
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=-1), 1, atol=1e-3)


def test_model_attention_layers_are_named_by_stack():
    model = Transformer(TransformerConfig(arch="encoder-decoder", layers=2, max_len=8))
    kinds = [(kind, i) for kind, i, _ in model.attention_layers()]
    assert kinds == [("encoder", 0), ("encoder", 1), ("decoder", 0), ("cross", 0), ("decoder", 1), ("cross", 1)]
    single = Transformer(TransformerConfig(arch="decoder", layers=1, tgt_vocab=5, out_vocab=5, max_len=8))
    assert [(k, i) for k, i, _ in single.attention_layers()] == [("self", 0)]
    with pytest.raises(EngineError, match="multiple of heads"):
        Transformer(TransformerConfig(d_model=10, heads=3))


def test_parameters_are_views_of_one_vector_that_the_optimiser_updates():
    trainer = TransformerTrainer("reverse-1head")
    ff = trainer.model.encoder[0].feed_forward
    assert ff.params["inner_weight"] is ff.inner.params["weight"]
    before = ff.inner.params["weight"].copy()
    trainer.step()
    assert not np.array_equal(before, ff.inner.params["weight"])
    assert np.shares_memory(ff.params["inner_weight"], trainer.model.vector.params["all"])
    assert trainer.model.vector.params["all"].size == trainer.model.num_params


# --- tasks --------------------------------------------------------------------------------


def test_reverse_batches():
    b = Reverse(8).sample(np.random.default_rng(0), 5)
    np.testing.assert_array_equal(b.targets, b.src[:, ::-1])
    assert np.all(b.inputs[:, 0] == 10)  # the start token
    np.testing.assert_array_equal(b.inputs[:, 1:], b.targets[:, :-1])  # shifted right
    assert b.scored.all()


def test_sort_batches_score_only_the_answer():
    task = Sort(6)
    b = task.sample(np.random.default_rng(1), 4)
    assert b.inputs.shape == (4, 12)
    np.testing.assert_array_equal(b.targets[:, 6:], np.sort(b.inputs[:, :6], axis=1))
    assert np.all(b.inputs[:, 6] == task.separator)
    assert b.scored[:, 6:].all() and not b.scored[:, :6].any()


def test_induction_scored_tokens_repeat_one_period_back():
    task = Induction(24)
    b = task.sample(np.random.default_rng(2), 200)
    seq = np.concatenate([b.inputs, b.targets[:, -1:]], axis=1)
    for row in range(200):
        first = int(np.argmax(b.scored[row]))
        # the current token occurred before, and what followed it then is the target now
        positions = np.flatnonzero(b.scored[row])
        for t in positions:
            earlier = np.flatnonzero(seq[row, :t] == seq[row, t])
            assert earlier.size >= 1
            assert seq[row, earlier[-1] + 1] == b.targets[row, t]
        assert first >= 3


def test_brackets_negatives_have_equal_counts_but_dip_below_zero():
    b = Brackets(16).sample(np.random.default_rng(3), 64)
    labels = b.targets[:, -1]
    assert labels.sum() == 32
    depth = np.cumsum(np.where(b.inputs == 0, 1, -1), axis=1)
    assert np.all(depth[:, -1] == 0)  # every string has as many "(" as ")"
    np.testing.assert_array_equal((depth >= 0).all(axis=1), labels == 1)
    assert b.scored[:, -1].all() and b.scored.sum() == 64


def test_held_out_sequences_never_appear_in_training():
    trainer = TransformerTrainer("brackets")
    held = set(map(tuple, trainer.held_out.inputs.tolist()))
    for _ in range(20):
        batch = trainer.training_batch()
        assert not held & set(map(tuple, batch.inputs.tolist()))


def test_typed_sequences_parse_or_say_what_is_allowed():
    task = Reverse(8)
    assert task.parse("3 1 4 1 5 9 2 6") == [3, 1, 4, 1, 5, 9, 2, 6]
    assert task.parse([3, 1, 4]) == [3, 1, 4]
    assert task.parse("314") == [3, 1, 4]
    with pytest.raises(EngineError, match=r"unknown token x.*0, 1, 2, 3, 4, 5, 6, 7, 8, 9.*at most 8"):
        task.parse("3 x 4")
    with pytest.raises(EngineError, match="9 tokens, over this model's limit of 8"):
        task.parse("1 2 3 4 5 6 7 8 9")
    with pytest.raises(EngineError, match="unknown token 12"):
        task.parse([1, 12])
    with pytest.raises(EngineError, match="empty"):
        task.parse("  ")
    brackets = make_task({"name": "brackets", "length": 16})
    assert brackets.parse("(()())") == [0, 0, 1, 0, 1, 1]
    assert brackets.parse("( ) 0 1") == [0, 1, 0, 1]
    with pytest.raises(EngineError, match="even length"):
        make_task({"name": "brackets", "length": 7})
    with pytest.raises(EngineError, match="unknown task"):
        make_task({"name": "juggle"})


def test_presets_build_with_the_right_architecture():
    for name, preset in PRESETS.items():
        trainer = TransformerTrainer(name)
        assert trainer.model.config.arch == preset["model"]["arch"], name
        assert trainer.model.config.layers == preset["model"]["layers"]
    with pytest.raises(EngineError, match="needs arch 'encoder-decoder'"):
        TransformerTrainer("reverse", model={"arch": "decoder"})
    with pytest.raises(EngineError, match="unknown settings"):
        TransformerTrainer("reverse", model={"colour": "red"})


# --- training ------------------------------------------------------------------------------


def test_warmup_rises_linearly_then_holds():
    assert [warmup_scale(s, 100) for s in (1, 50, 100, 500)] == [0.01, 0.5, 1.0, 1.0]
    assert warmup_scale(1, 0) == 1.0


def test_reverse_reaches_95_percent_held_out_sequence_accuracy_within_1000_steps():
    trainer = TransformerTrainer("reverse")  # the preset's fixed seed
    history = trainer.train(1000, record_every=25, stop_at=0.95)
    best = history[-1]
    assert best["extra"]["sequence_accuracy"] >= 0.95, history[-1]
    assert best["step"] <= 1000
    assert history[0]["extra"]["sequence_accuracy"] < 0.1  # it did learn: it started near chance
    trainer.train(100, record_every=50)  # a little further, as a person would let it run
    # Typed sequences decode greedily into the reversed sequence.
    assert trainer.predict([3, 1, 4, 1, 5, 9, 2, 6]).output == [6, 2, 9, 5, 1, 4, 1, 3]
    # The cross-attention of the last layer has learned the anti-diagonal.
    _, _, cross = trainer.model.attention_layers()[-1]
    assert cross.weights.shape == (1, 2, 8, 8)
    strongest = cross.weights[0].max(axis=0).argmax(axis=-1)
    assert (strongest == np.arange(8)[::-1]).mean() >= 0.75


def test_a_non_finite_loss_marks_the_session_diverged_and_keeps_weights():
    trainer = TransformerTrainer("reverse-1head")
    trainer.model.head.params["weight"][0, 0] = np.nan
    with pytest.raises(DivergedError, match="loss became NaN at step 1"):
        trainer.step()
    assert trainer.diverged and trainer.step_count == 0
    with pytest.raises(DivergedError, match="Reset"):
        trainer.step()
    trainer.reset()
    assert not trainer.diverged and np.isfinite(trainer.step().loss)


def greedy_decode(trainer: TransformerTrainer, batch) -> np.ndarray:
    """Token-by-token greedy decoding of every row from the first scored position: the plain way."""
    first = int(np.argmax(batch.scored[0]))
    written = batch.inputs[:, : first + 1]
    out = np.zeros_like(batch.targets)
    for pos in range(first, batch.inputs.shape[1]):
        out[:, pos] = trainer.model.forward(written, batch.src)[:, -1].argmax(axis=-1)
        written = np.concatenate([written, out[:, pos: pos + 1]], axis=1)
    return out


@pytest.mark.parametrize("preset, steps", [("copy", 110), ("sort", 100)])
def test_answers_are_those_of_plain_greedy_decoding(preset, steps):
    # `answer` decodes only the rows a teacher-forced pass gets wrong: partly trained, some rows are right,
    # some wrong at various positions (after which greedy decoding reads its own mistakes and differs from
    # teacher forcing), and the answers must still be exactly greedy decoding's.
    trainer = TransformerTrainer(preset)
    trainer.train(steps, record_every=steps)
    batch = trainer.held_out
    predicted = trainer.answer(batch)
    right = ((predicted == batch.targets) | ~batch.scored).all(axis=1)
    assert 0 < right.mean() < 1, right.mean()
    expected = greedy_decode(trainer, batch)
    teacher_forced = trainer.model.forward(batch.inputs, batch.src).argmax(axis=-1)
    assert (teacher_forced != expected)[batch.scored].any()  # the decoding matters here
    np.testing.assert_array_equal(predicted[batch.scored], expected[batch.scored])
