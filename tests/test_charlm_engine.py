"""The character language model's engine: corpus, vocabulary, the causal model's gradients and masks, sampling,
and the trainer under the training protocol."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.charlm.corpus import DEFAULT_NPZ, UNKNOWN, Vocabulary, corpus_vocabulary, load_corpus, split_text
from engine.charlm.model import DEFAULT_WEIGHTS, CharLM, CharLMConfig
from engine.charlm.trainer import CharLMTrainer
from engine.core.errors import EngineError
from engine.core.gradcheck import numerical_gradient, relative_error
from engine.core.training import DivergedError, TrainerProtocol, TrainerState, restore_trainer

TOL = 1e-6
SMALL_VOCAB = Vocabulary(list("\n abcde.") + [UNKNOWN])
TINY_TEXT = "a bad cab. a dead bee. " * 40


def tiny_model(dtype: str = "float32", **sizes: int) -> CharLM:
    config = {"layers": 2, "heads": 2, "d_model": 8, "d_ff": 12, "context": 6, "seed": 3, "dtype": dtype, **sizes}
    return CharLM(SMALL_VOCAB, CharLMConfig(**config))


def tiny_trainer(**train: object) -> CharLMTrainer:
    return CharLMTrainer(TINY_TEXT, vocab=SMALL_VOCAB,
                         model={"layers": 1, "heads": 2, "d_model": 8, "d_ff": 16, "context": 8, "seed": 1},
                         train={"batch_size": 4, "learning_rate": 0.01, "warmup": 0, "eval_windows": 4, **train})


# --- corpus and vocabulary ----------------------------------------------------------------------------


def test_shipped_corpus_is_the_eight_tragedies_with_81_symbols():
    corpus = load_corpus()
    assert DEFAULT_NPZ.stat().st_size <= 1.5e6
    assert len(corpus.text) == 1_158_247 and corpus.plays[0] == "Hamlet" and corpus.plays[-1] == "Coriolanus"
    assert corpus.text[corpus.starts[1]:].startswith("MACBETH")
    vocab = corpus_vocabulary(corpus)
    assert len(vocab) == 81 and vocab.symbols[-1] == UNKNOWN and set("0123456789aZ\n ;") <= set(vocab.symbols)
    train, held_out = corpus.split()
    assert train + held_out == corpus.text and len(held_out) == round(0.1 * len(corpus.text))


def test_unknown_characters_read_as_the_unknown_symbol():
    vocab = Vocabulary.from_text("abc")
    ids = vocab.encode("ab☃c€" + UNKNOWN)
    assert ids.tolist() == [10, 11, 13, 12, 13, 13]  # digits 0-9 come first, then a b c, then the unknown symbol
    assert vocab.decode(ids) == f"ab{UNKNOWN}c{UNKNOWN}{UNKNOWN}"
    with pytest.raises(EngineError, match="ends with the unknown"):
        Vocabulary(list("ab"))
    with pytest.raises(EngineError):
        split_text("abc", 1.5)


# --- the causal model ---------------------------------------------------------------------------------


def test_causal_model_gradients_match_central_differences_in_float64():
    model = tiny_model("float64")
    trainer_loss = CharLMTrainer.loss_and_grad
    rng = np.random.default_rng(5)
    inputs = rng.integers(0, len(SMALL_VOCAB), (2, 6))
    targets = rng.integers(0, len(SMALL_VOCAB), (2, 6))
    holder = tiny_trainer()
    holder.model = model
    _, dlogits = trainer_loss(holder, inputs, targets)
    model.net.backward(dlogits)
    analytic = {f"{i}.{n}": layer.grads[n].copy() for i, layer in enumerate(model.net.layers()) for n in layer.params}

    def loss() -> float:
        return trainer_loss(holder, inputs, targets)[0]

    for i, layer in enumerate(model.net.layers()):
        for name, p in layer.params.items():
            err = relative_error(analytic[f"{i}.{name}"], numerical_gradient(loss, p))
            assert err < TOL, f"{i} {layer.type}.{name}: {err}"


def test_the_mask_hides_every_later_position():
    model = tiny_model("float64")
    text = "abc de"
    before = model.read(text)
    weights = model.attention()  # (layers, heads, time, time)
    later = np.triu(np.ones((6, 6), dtype=bool), k=1)
    assert weights.shape == (2, 2, 6, 6)
    assert np.all(weights[..., later] == 0) and np.allclose(weights.sum(axis=-1), 1)
    for j in range(1, 6):  # changing character j changes nothing the model says at positions before j
        changed = text[:j] + ("." if text[j] != "." else "a") + text[j + 1:]
        after = model.read(changed)
        np.testing.assert_array_equal(after.logits[:j], before.logits[:j])
        assert not np.allclose(after.logits[j:], before.logits[j:])


def test_reading_windows_long_texts_and_marks_unknown_characters():
    model = tiny_model()
    reading = model.read("ab€cdeab")
    assert reading.dropped == 2 and reading.text == f"{UNKNOWN}cdeab" and reading.unknown == [0]
    assert reading.logits.shape == (6, len(SMALL_VOCAB))
    assert model.read("").text == "\n"


def test_temperature_top_k_and_the_limit_of_zero_temperature():
    logits = np.array([1.0, 3.0, 2.0, 3.0 - 1e-9, -1.0])
    p1 = CharLM.reshape(logits, 1.0)
    assert math.isclose(p1.sum(), 1.0) and np.allclose(p1, np.exp(logits) / np.exp(logits).sum())
    hot, cold = CharLM.reshape(logits, 2.0), CharLM.reshape(logits, 0.5)
    assert hot.max() < p1.max() < cold.max()  # a higher temperature flattens the distribution
    assert CharLM.reshape(logits, 0.0).tolist() == [0, 1, 0, 0, 0]  # T = 0: all mass on the (first) argmax
    assert np.argmax(CharLM.reshape(logits, 1e-2)) == 1
    top2 = CharLM.reshape(logits, 1.0, top_k=2)
    assert np.count_nonzero(top2) == 2 and math.isclose(top2.sum(), 1.0) and top2[1] > top2[3] > 0
    for bad in ({"temperature": -1}, {"temperature": float("nan")}, {"top_k": 0}):
        with pytest.raises(EngineError):
            CharLM.reshape(logits, **{"temperature": 1.0, **bad})


def test_generation_is_reproducible_with_a_seed_and_greedy_at_temperature_zero():
    model = tiny_model()
    first = [s.char for s in model.generate("ab", 20, temperature=1.0, seed=7)]
    assert [s.char for s in model.generate("ab", 20, temperature=1.0, seed=7)] == first
    assert [s.char for s in model.generate("ab", 20, temperature=1.0, seed=8)] != first
    greedy = list(model.generate("ab", 10, temperature=0.0, seed=1))
    text = "ab"
    for sampled in greedy:  # every character is the argmax of the model's distribution after the text so far
        logits = model.read(text[-model.context:]).logits[-1]
        assert sampled.id == int(np.argmax(logits)) and sampled.sampled_probability == 1.0
        assert math.isclose(sampled.probability, float(np.exp(logits - logits.max()).max()
                                                       / np.exp(logits - logits.max()).sum()), rel_tol=1e-6)
        text += sampled.char
    assert [s.char for s in model.generate("ab", 10, temperature=0.0, seed=99)] == [s.char for s in greedy]


def test_logit_lens_and_embedding_map():
    model = tiny_model()
    reading = model.read("abc")
    lens = model.lens(-1, top=3)
    assert [entry["name"] for entry in lens] == ["embedding", "after block 1", "after block 2"]
    final = np.exp(reading.logits[-1] - reading.logits[-1].max())
    final /= final.sum()
    assert lens[-1]["top"][0]["char"] == SMALL_VOCAB.symbols[int(np.argmax(final))]
    assert math.isclose(lens[-1]["top"][0]["probability"], float(final.max()), rel_tol=1e-5)
    pca = model.embedding_pca()
    assert pca["coords"].shape == (len(SMALL_VOCAB), 2) and 0 < pca["explained"].sum() <= 1


def test_save_and_load_round_trip(tmp_path):
    model = tiny_model()
    model.meta = {"validation_loss": 1.5}
    model.save(tmp_path / "m.npz")
    again = CharLM.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(again.read("abc").logits, model.read("abc").logits)
    assert again.meta == {"validation_loss": 1.5} and again.vocab.symbols == SMALL_VOCAB.symbols


def test_the_shipped_model_fits_and_reports_its_validation_loss():
    assert DEFAULT_WEIGHTS.stat().st_size <= 3e6
    model = CharLM.load()
    c = model.config
    assert 2 <= c.layers <= 4 and c.heads == 4 and 64 <= c.d_model <= 128 and 64 <= c.context <= 128
    meta = model.meta
    assert meta["validation_loss"] < 2.2 and math.isclose(meta["bits_per_char"], meta["validation_loss"] / math.log(2))
    assert meta["command"].startswith("glassbox train charlm")


# --- the trainer --------------------------------------------------------------------------------------


def test_trainer_follows_the_protocol_and_learns():
    trainer = tiny_trainer()
    assert isinstance(trainer, TrainerProtocol) and trainer.kind == "charlm"
    trainer.record()
    start = trainer.history[-1]["test_loss"]
    records = trainer.train(60, record_every=30)
    assert [r["step"] for r in records] == [30, 60] and trainer.step_count == 60
    assert records[-1]["test_loss"] < start - 0.5
    assert math.isclose(records[-1]["extra"]["bits_per_char"], records[-1]["test_loss"] / math.log(2))


def test_state_round_trip_resumes_bit_identically():
    trainer = tiny_trainer()
    trainer.train(5)
    saved = TrainerState.from_bytes(trainer.state().to_bytes())
    trainer.train(5)
    resumed = tiny_trainer(learning_rate=0.5)  # different settings: load_state replaces everything
    resumed.load_state(saved)
    resumed.train(5)
    np.testing.assert_array_equal(resumed.model.net.vector.params["all"], trainer.model.net.vector.params["all"])
    def untimed(history: list[dict]) -> list[dict]:
        return [{k: v for k, v in entry.items() if k != "time"} for entry in history]

    assert untimed(resumed.history) == untimed(trainer.history)
    with pytest.raises(EngineError):
        resumed.load_state(TrainerState("lenet", {}, {}))


def test_divergence_rolls_back_and_refuses_until_reset():
    trainer = tiny_trainer()
    trainer.train(3)
    kept = trainer.model.net.vector.params["all"].copy()
    trainer.model.net.head.params["bias"][0] = np.nan  # a poisoned weight makes the loss NaN
    poisoned = trainer.model.net.vector.params["all"].copy()
    with pytest.raises(DivergedError, match="diverged"):
        trainer.train(2)
    assert trainer.diverged and trainer.step_count == 3
    np.testing.assert_array_equal(trainer.model.net.vector.params["all"], poisoned)  # rolled back to the chunk start
    assert not np.array_equal(kept, poisoned, equal_nan=True)
    with pytest.raises(DivergedError):
        trainer.step()
    trainer.reset()
    assert not trainer.diverged and trainer.step_count == 0 and trainer.history == []


def test_configure_checks_everything_first():
    trainer = tiny_trainer()
    with pytest.raises(EngineError, match="learning_rate"):
        trainer.configure(learning_rate=-1, batch_size=8)
    assert trainer.settings["train"]["batch_size"] == 4
    with pytest.raises(EngineError, match="unknown settings"):
        trainer.configure(momentum=0.9)
    trainer.configure(learning_rate=0.003, batch_size=8)
    assert trainer.optimizer.learning_rate == 0.003 and trainer.batch()[0].shape == (8, 8)
    with pytest.raises(EngineError, match="too short"):
        CharLMTrainer("abc", vocab=SMALL_VOCAB, model={"context": 8})


def test_any_state_restores_through_the_registry_and_the_corpus_is_named_not_stored():
    own = tiny_trainer()
    own.train(3)
    again = restore_trainer(own.state().to_bytes())
    assert isinstance(again, CharLMTrainer) and again.step_count == 3 and again.text == own.text
    np.testing.assert_array_equal(again.model.net.vector.params["all"], own.model.net.vector.params["all"])
    on_corpus = CharLMTrainer(model={"layers": 1, "heads": 2, "d_model": 8, "d_ff": 16, "context": 8},
                              train={"batch_size": 2, "eval_windows": 2})
    state = on_corpus.state()
    assert state.meta["corpus"] is True and not any(name.startswith("data/") for name in state.arrays)
    assert restore_trainer(state).text == on_corpus.text


def test_glassbox_train_charlm_writes_a_model_that_records_its_command(tmp_path, capsys):
    from app.cli import main

    out = tmp_path / "tiny.npz"
    code = main(["train", "charlm", "--epochs", "1", "--epoch-steps", "3", "--layers", "1", "--heads", "2",
                 "--d-model", "16", "--context", "16", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "validation loss" in printed and "bits/char" in printed
    model = CharLM.load(out)
    assert model.config.layers == 1 and model.config.context == 16 and model.meta["steps"] == 3
    assert model.meta["batch_size"] == 16  # charlm's default batch, not the shared 64
    assert model.meta["command"].startswith("glassbox train charlm --epochs 1 --epoch-steps 3 --batch 16")
    assert main(["train", "charlm", "--epochs", "0", "--out", str(out)]) == 2
