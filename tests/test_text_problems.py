"""Tests of the text problems ``textgen`` (PTB) and ``tolstoi_char_rnn`` on tiny fake data."""

from __future__ import annotations

import argparse
import hashlib
import importlib
import io
import logging
import pickle
import random
import warnings

import numpy as np
import pytest
import torch

from deepobs.pytorch import cli, config, datasets, testproblems
from deepobs.pytorch.datasets import _text
from deepobs.pytorch.datasets._errors import DataFileError
from deepobs.pytorch.datasets._text import SEQ_LEN, char_vocabulary, encode, stream_windows
from deepobs.pytorch.datasets._tolstoi_prep import delete_lines, prepare_tolstoi
from deepobs.pytorch.testproblems._char_rnn import CharRNN, char_rnn_num_parameters

PTB_WORDS = [
    "the",
    "a",
    "of",
    "<unk>",
    "N",
    "market",
    "stock",
    "said",
    "'s",
    "mr.",
    "$",
    "and",
    "to",
    "in",
    "bank",
    "shares",
    "n't",
    "co.",
]
BS = 4  # parallel streams in the fast tests
# The package exposes the class ``ptb``; the module holds the download helpers.
ptb = importlib.import_module("deepobs.pytorch.datasets.ptb")


def _ptb_lines(rng: random.Random, n: int) -> str:
    # The real format: a blank, words separated by blanks, a blank, newline.
    return "".join(
        " " + " ".join(rng.choice(PTB_WORDS) for _ in range(rng.randint(3, 12))) + " \n"
        for _ in range(n)
    )


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Run this module's small LSTMs on one thread, restoring the setting afterwards.

    With two intra-op threads on a busy 2-core machine, every small op waits for a
    descheduled thread: the runner tests took 25-45 s instead of 1-2 s.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def restore_logging():
    """``cli.main`` configures the ``deepobs`` logger; undo that after the test."""
    logger = logging.getLogger("deepobs")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture
def ptb_root(tmp_path):
    """A data root with a tiny fake PTB (real names and format) in ``ptb/``."""
    rng = random.Random(0)
    folder = tmp_path / "ptb"
    folder.mkdir()
    for split, n in (("train", 300), ("valid", 40), ("test", 40)):
        (folder / f"ptb.{split}.txt").write_text(_ptb_lines(rng, n), encoding="utf-8")
    return tmp_path


@pytest.fixture
def tolstoi_root(tmp_path):
    """A data root with fake ``tolstoi/train.npy`` and ``test.npy`` (ids < 83, no vocab.pkl)."""
    # A learnable stream: each id follows from the previous one up to a coin flip.
    steps = np.random.default_rng(0).integers(1, 3, 20_000)
    ids = np.cumsum(steps * 5) % 83
    folder = tmp_path / "tolstoi"
    folder.mkdir()
    np.save(folder / "train.npy", ids[:16_000])
    np.save(folder / "test.npy", ids[16_000:])
    return tmp_path


def _textgen(root, batch_size=BS):
    tp = testproblems.textgen(batch_size, data_dir=root, device="cpu")
    tp.set_up()
    return tp


def _tolstoi(root, batch_size=BS):
    with pytest.warns(DeprecationWarning, match="textgen"):
        tp = testproblems.tolstoi_char_rnn(batch_size, data_dir=root, device="cpu")
    tp.set_up()
    return tp


# ---------------------------------------------------------------- vocabulary and batching
def test_vocabulary_by_descending_frequency_ties_by_first_occurrence():
    assert char_vocabulary("abbccc") == ("c", "b", "a")
    assert char_vocabulary("yxxy\n") == ("y", "x", "\n")
    vocab = char_vocabulary("hello world")
    ids = encode("hello world", vocab)
    assert "".join(vocab[i] for i in ids) == "hello world"
    assert ids.dtype == np.int64
    with pytest.raises(ValueError, match=r"outside the vocabulary.*'z'"):
        encode("hez", vocab)


def test_stream_windows_shift_by_one_across_window_boundaries():
    bs, seq, nb = 3, 4, 5
    ids = np.arange(bs * seq * nb + 2)  # two spare ids: the last is never an input
    inputs, targets = stream_windows(ids, bs, seq)
    assert inputs.shape == targets.shape == (nb * bs, seq)
    batches = inputs.view(nb, bs, seq)
    torch.testing.assert_close(targets, inputs + 1)  # ids are consecutive numbers
    for j in range(nb - 1):  # row i of batch j+1 continues row i of batch j
        torch.testing.assert_close(batches[j + 1, :, 0], batches[j, :, -1] + 1)
        torch.testing.assert_close(targets.view(nb, bs, seq)[j, :, -1], batches[j + 1, :, 0])
    # rows are contiguous thirds of the stream
    torch.testing.assert_close(batches[0, :, 0], torch.tensor([0, nb * seq, 2 * nb * seq]))


# ---------------------------------------------------------------- PTB
def test_ptb_reader_vocabulary_and_splits(ptb_root):
    path = ptb_root / "ptb" / "ptb.train.txt"
    raw_lines = path.read_text(encoding="utf-8").split("\n")[:-1]
    assert raw_lines[0].startswith(" ") and raw_lines[0].endswith(" ")  # the real padding
    text = ptb.read_ptb_text(path)
    assert text.split("\n")[:-1] == [line.strip() for line in raw_lines]
    data = datasets.ptb(BS, data_dir=ptb_root)
    assert data.vocab == char_vocabulary(text) and data.vocab[0] == " "
    assert {"\n", "<", ">", "N", "$"} <= set(data.vocab)
    assert data.vocab_size == len(data.vocab)
    n_valid = len(data.valid_loader)
    assert n_valid == (len(ptb.read_ptb_text(ptb_root / "ptb" / "ptb.valid.txt")) - 1) // (
        BS * SEQ_LEN
    )
    train_eval, train = list(data.train_eval_loader), list(data.train_loader)
    assert len(train_eval) == n_valid < len(train)
    for a, b in zip(train_eval, train):  # train_eval = the first training batches
        torch.testing.assert_close(a, b)
    inputs, targets = train[0]
    assert inputs.shape == targets.shape == (BS, SEQ_LEN) and inputs.dtype == torch.int64
    decoded = "".join(data.vocab[i] for i in inputs[0].tolist())
    assert text.startswith(decoded)


def test_ptb_errors(ptb_root, tmp_path):
    with pytest.raises(ValueError, match="too few for one batch"):
        datasets.ptb(1000, data_dir=ptb_root)
    (ptb_root / "ptb" / "ptb.test.txt").write_text(" zebra \n" * 500, encoding="utf-8")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        datasets.ptb(BS, data_dir=ptb_root)
    assert datasets.ptb.requires_files and datasets.ptb.is_available(ptb_root)
    (ptb_root / "ptb" / "ptb.valid.txt").unlink()
    assert not datasets.ptb.is_available(ptb_root)
    with pytest.raises(FileNotFoundError, match=r"ptb\.valid\.txt.*deepobs download ptb"):
        datasets.ptb(BS, data_dir=ptb_root)


def test_ptb_download_checks_md5_and_writes_atomically(tmp_path, monkeypatch, restore_logging):
    payload = {
        name: _ptb_lines(random.Random(i), 200).encode()
        for i, (name, _) in enumerate(ptb.PTB_RESOURCES)
    }
    fetched = []

    def fake_urlopen(url, timeout):
        fetched.append(url)
        return io.BytesIO(payload[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(_text.urllib.request, "urlopen", fake_urlopen)
    with pytest.raises(RuntimeError, match="Checksum mismatch"):  # the real MD5s
        ptb.download_ptb(tmp_path)
    assert not any((tmp_path / "ptb").iterdir())  # neither the file nor a *.part is kept
    md5s = tuple((n, hashlib.md5(payload[n]).hexdigest()) for n, _ in ptb.PTB_RESOURCES)
    monkeypatch.setattr(ptb, "PTB_RESOURCES", md5s)
    fetched.clear()
    data = datasets.ptb(BS, data_dir=tmp_path, download=True)
    assert len(fetched) == 3 and fetched[0] == ptb.PTB_URL + "ptb.train.txt"
    assert sorted(p.name for p in (tmp_path / "ptb").iterdir()) == sorted(payload)
    assert len(data.train_loader) > 0
    fetched.clear()
    assert cli.main(["download", "ptb", "--data-dir", str(tmp_path)]) == 0
    assert fetched == []  # intact files are not fetched again


def test_ptb_download_without_network_raises_runtime_error(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise _text.urllib.error.URLError("no network")

    monkeypatch.setattr(_text.urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError, match="Could not download .*ptb.train.txt"):
        ptb.download_ptb(tmp_path)
    assert not any((tmp_path / "ptb").iterdir())


# ---------------------------------------------------------------- problems
def test_parameter_count_formula():
    assert char_rnn_num_parameters(83) == 257 * 83 + 263_168 == 284_499
    model = CharRNN(83)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 284_499
    assert sum(p.numel() for p in model.parameters()) == 285_523  # + the frozen bias_hh
    bias = model.lstm.bias_ih_l0.detach()
    assert torch.all(bias[128:256] == 1.0) and torch.all(bias[:128] == 0)
    assert torch.all(model.lstm.bias_hh_l1 == 0) and not model.lstm.bias_hh_l1.requires_grad
    bound = (6 / 768) ** 0.5
    assert model.lstm.weight_hh_l1.abs().max() <= bound


def test_textgen(ptb_root):
    tp = _textgen(ptb_root)
    assert testproblems.textgen.spec.dataset == "ptb" and tp.l2_reg is None
    assert tp.num_parameters() == char_rnn_num_parameters(tp.data.vocab_size)
    tp.train_init_op()
    loss, acc = tp.get_batch_loss_and_accuracy()
    assert loss.ndim == 0 and torch.isfinite(loss) and 0 <= float(acc) <= 1
    loss.backward()
    assert tp.model.lstm.weight_hh_l0.grad is not None and tp.model.lstm.bias_hh_l0.grad is None
    for init in (tp.train_eval_init_op, tp.valid_init_op, tp.test_init_op):
        init()
        per_seq, _ = tp.get_batch_loss_and_accuracy(reduction="none")
        assert per_seq.shape == (BS,)
    tp.test_init_op()
    mean, _ = tp.get_batch_loss_and_accuracy()
    torch.testing.assert_close(mean, per_seq.mean())
    with pytest.warns(UserWarning, match="no regularisation"):
        testproblems.textgen(BS, l2_reg=5e-4, data_dir=ptb_root)


def test_tolstoi_char_rnn(tolstoi_root):
    tp = _tolstoi(tolstoi_root)
    assert tp.num_parameters() == 284_499 and tp.data.vocab_size == 83
    n_valid = 16_000 // 4  # a quarter of the small train.npy
    assert len(tp.data.valid_loader) == (n_valid - 1) // (BS * SEQ_LEN)
    assert len(tp.data.train_loader) == (16_000 - n_valid - 1) // (BS * SEQ_LEN)
    assert len(tp.data.train_eval_loader) == len(tp.data.valid_loader)
    valid_first = next(iter(tp.data.valid_loader))[0][0]
    train_ids = np.load(tolstoi_root / "tolstoi" / "train.npy")
    assert valid_first.tolist() == train_ids[:SEQ_LEN].tolist()
    tp.train_init_op()
    loss, _ = tp.get_batch_loss_and_accuracy()
    assert torch.isfinite(loss)


def test_tolstoi_vocab_pkl_and_bad_files(tolstoi_root):
    folder = tolstoi_root / "tolstoi"
    (folder / "vocab.pkl").write_bytes(pickle.dumps(tuple(chr(65 + i) for i in range(90))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = datasets.tolstoi(BS, data_dir=tolstoi_root)
    assert data.vocab_size == 90 and data.vocab[0] == "A"
    (folder / "vocab.pkl").write_bytes(pickle.dumps(tuple("abc")))
    with pytest.raises(ValueError, match="outside the vocabulary of 3"):
        datasets.tolstoi(BS, data_dir=tolstoi_root)
    (folder / "vocab.pkl").write_bytes(pickle.dumps(argparse.Namespace()))  # not plain data
    with pytest.raises(DataFileError, match=r"vocab\.pkl.*argparse\.Namespace.*prepare-tolstoi"):
        datasets.tolstoi(BS, data_dir=tolstoi_root)
    (folder / "vocab.pkl").unlink()
    assert datasets.tolstoi.is_available(tolstoi_root)  # vocab.pkl is optional
    (folder / "test.npy").unlink()
    assert not datasets.tolstoi.is_available(tolstoi_root)
    with pytest.raises(FileNotFoundError, match=r"test\.npy.*deepobs prepare-tolstoi"):
        datasets.tolstoi(BS, data_dir=tolstoi_root)


# ---------------------------------------------------------------- recurrent state
def test_state_is_carried_within_a_phase_and_reset_by_init_ops(ptb_root):
    tp = _textgen(ptb_root)
    batches = list(tp.data.test_loader)[:2]
    tp.test_init_op()
    first, _ = tp.get_batch_loss_and_accuracy()
    second, _ = tp.get_batch_loss_and_accuracy()
    tp.test_init_op()  # reset: the first batch gives the same loss again
    assert tp._state is None
    torch.testing.assert_close(tp.get_batch_loss_and_accuracy()[0], first)
    with torch.no_grad():  # direct API: batch 2 from a zero state differs from batch 2 after 1
        tp.reset_state()
        alone, _ = tp.loss_and_accuracy(batches[1])
        tp.reset_state()
        tp.loss_and_accuracy(batches[0])
        after_first, _ = tp.loss_and_accuracy(batches[1])
    assert not torch.allclose(alone, second)
    torch.testing.assert_close(after_first, second)
    with torch.inference_mode():  # as the runner evaluates
        tp.valid_init_op()
        tp.get_batch_loss_and_accuracy()
    tp.train_init_op()  # the inference-mode state must not reach training
    assert tp._state is None
    loss, _ = tp.get_batch_loss_and_accuracy()
    loss.backward()


def test_direct_api_resets_on_mode_or_batch_size_change(ptb_root):
    tp = _textgen(ptb_root)
    batch = next(iter(tp.data.test_loader))
    tp.model.eval()
    with torch.no_grad():
        fresh, _ = tp.loss_and_accuracy(batch)
        tp.model.train()
        tp.loss_and_accuracy(batch)  # leaves a training-mode state
        tp.model.eval()
        torch.testing.assert_close(tp.loss_and_accuracy(batch)[0], fresh)
        tp.loss_and_accuracy([t[: BS - 1] for t in batch])  # smaller batch: fresh state
    assert tp._state[0].shape == (2, BS - 1, 128)


def test_closure_called_twice_starts_from_the_same_state_and_advances_once(ptb_root):
    tp = _textgen(ptb_root)
    tp.test_init_op()
    tp.get_batch_loss_and_accuracy()
    reference, _ = tp.get_batch_loss_and_accuracy()  # batch 2, closure called once
    tp.test_init_op()
    closure = tp.get_batch_loss_and_accuracy_func()
    a, b = closure()[0], closure()[0]
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(tp.get_batch_loss_and_accuracy()[0], reference)

    tp.train_init_op()  # training: with the same dropout masks, the same loss and gradient
    tp.get_batch_loss_and_accuracy()
    closure = tp.get_batch_loss_and_accuracy_func()
    losses = []
    for _ in range(3):
        torch.manual_seed(0)
        loss, _ = closure()
        loss.backward()  # the incoming state is detached: no graph is shared between calls
        losses.append(loss.detach())
    torch.testing.assert_close(losses[0], losses[2])


def test_short_training_lowers_the_loss(ptb_root):
    torch.manual_seed(0)
    tp = _textgen(ptb_root, batch_size=8)
    opt = torch.optim.Adam(tp.model.parameters(), lr=1e-2)

    def train_eval_loss():
        tp.train_eval_init_op()
        with torch.no_grad():
            return float(tp.get_batch_loss_and_accuracy()[0])

    before = train_eval_loss()
    for _ in range(2):
        tp.train_init_op()
        while True:
            try:
                closure = tp.get_batch_loss_and_accuracy_func()
            except StopIteration:
                break
            opt.zero_grad()
            closure()[0].backward()
            opt.step()
    assert train_eval_loss() < before - 0.5


@pytest.mark.parametrize("name", ["textgen", "tolstoi_char_rnn"])
def test_one_epoch_through_standard_runner(name, ptb_root, tolstoi_root, monkeypatch, tmp_path):
    from deepobs.pytorch.runners import StandardRunner

    monkeypatch.setattr(config, "_data_dir", None)  # the runner sets the data dir globally
    runner = StandardRunner(torch.optim.LBFGS, {"lr": {"type": float}, "max_iter": {"type": int}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        out = runner.run(
            testproblem=name,
            hyperparams={"lr": 0.1, "max_iter": 2},
            batch_size=BS,
            num_epochs=1,
            random_seed=1,
            data_dir=tmp_path,
            output_dir=tmp_path / "results",
            no_logs=True,
            device="cpu",
        )
    assert out["status"] == "done"
    assert len(out["test_losses"]) == len(out["train_accuracies"]) == 2
    assert out["train_losses"][1] < out["train_losses"][0]


# ---------------------------------------------------------------- Tolstoi converter
def _numbered_text(n_lines: int) -> str:
    return "".join(f"l{i} {'ab' if i % 3 else 'c'}\n" for i in range(1, n_lines + 1))


def test_delete_lines_follows_sed_semantics():
    text = _numbered_text(66_000)
    expected = text.split("\n")[:-1]
    for first, last in ((1, 29), (5, 775), (63_850, 64_207)):
        del expected[first - 1 : last]
    body = delete_lines(text)
    assert body == "".join(line + "\n" for line in expected)
    assert body.startswith("l30 c\nl31 ab\nl32 ab\nl33 c\nl805 ")
    with pytest.raises(ValueError, match="not the Project Gutenberg"):
        delete_lines(_numbered_text(1_000))


def test_prepare_tolstoi_builds_loadable_files(tmp_path):
    text_file = tmp_path / "war_and_peace.txt"
    text_file.write_bytes(b"header\r\n" * 40 + "Pierre, \u00e9t\u00e9!\r\n".encode() * 2_000)
    ranges = ((1, 29), (5, 10))
    files = prepare_tolstoi(text_file, tmp_path, ranges=ranges)
    train, test = (np.load(tmp_path / "tolstoi" / n) for n in ("train.npy", "test.npy"))
    vocab = pickle.loads((tmp_path / "tolstoi" / "vocab.pkl").read_bytes())
    n = len(train) + len(test)
    assert len(train) == files.num_train == int(np.ceil(0.8 * n)) and files.num_test == len(test)
    # counts: e = r = 4,005 (tie: "e" comes first), é 4,000, \r = \n 2,005, then 2,000 ...
    assert vocab == ("e", "r", "\u00e9", "\r", "\n", "P", "i", ",", " ", "t", "!", "h", "a", "d")
    decoded = "".join(vocab[i] for i in np.concatenate([train, test]))
    assert decoded == "header\r\n" * 5 + "Pierre, \u00e9t\u00e9!\r\n" * 2_000
    with pytest.raises(FileExistsError, match="overwrite"):
        prepare_tolstoi(text_file, tmp_path, ranges=ranges)
    with pytest.warns(DeprecationWarning):
        tp = testproblems.tolstoi_char_rnn(BS, data_dir=tmp_path, device="cpu")
    tp.set_up()
    assert tp.data.vocab == vocab and tp.num_parameters() == char_rnn_num_parameters(len(vocab))


def test_prepare_tolstoi_command(tmp_path, capsys, restore_logging):
    text_file = tmp_path / "wp.txt"
    text_file.write_text(_numbered_text(66_000), encoding="utf-8")
    assert cli.main(["prepare-tolstoi", str(text_file), "--data-dir", str(tmp_path)]) == 0
    assert "train.npy" in capsys.readouterr().out
    body = delete_lines(_numbered_text(66_000))
    assert len(np.load(tmp_path / "tolstoi" / "train.npy")) == -(-4 * len(body) // 5)
    assert cli.main(["prepare-tolstoi", str(tmp_path / "missing.txt")]) == 2
    assert "missing.txt" in capsys.readouterr().err
