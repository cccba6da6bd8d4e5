"""Bad inputs get one clear line before any training, and no run is ever lost (fuzzed defects)."""

from __future__ import annotations

import collections
import logging
import os
import signal
import threading
from datetime import datetime
from pathlib import Path

import pytest
import torch

from deepobs.pytorch.cli import main
from deepobs.pytorch.results import write
from deepobs.pytorch.runners import LearningRateScheduleRunner, StandardRunner
from deepobs.pytorch.runners._checkpoint import checkpoint_path

SGD = {"lr": {"type": float}}


class NoTraining:
    """A callback that fails the test if training starts."""

    def on_run_start(self, run):
        raise AssertionError("training started")


def _run(tmp_path, runner=None, **kwargs):
    runner = runner or StandardRunner(torch.optim.SGD, SGD)
    args = {
        "testproblem": "quadratic_deep",
        "hyperparams": {"lr": 0.05},
        "num_epochs": 2,
        "output_dir": tmp_path,
        "device": "cpu",
        **kwargs,
    }
    return runner, runner.run(**args)


def _cli(tmp_path, *extra):
    return main(
        [
            "run",
            "quadratic_deep",
            "--optimizer",
            "torch.optim.SGD",
            "-N",
            "1",
            "--device",
            "cpu",
            "--output-dir",
            str(tmp_path),
            *extra,
        ]
    )


def test_unwritable_output_dir_fails_before_training(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(write, "write_temp", refuse)
    runner = StandardRunner(torch.optim.SGD, SGD)
    runner.callbacks.append(NoTraining())
    with pytest.raises(PermissionError, match="Cannot write results to .*writable output_dir"):
        _run(tmp_path, runner)


def test_concurrent_writers_of_one_name_never_overwrite(tmp_path):
    start = datetime(2026, 1, 1, 12, 0, 0)
    paths = []
    barrier = threading.Barrier(8)

    def writer(i):
        barrier.wait()
        paths.append(write.write_result({"i": i}, tmp_path, 42, start))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(paths)) == 8 == len(list(tmp_path.glob("random_seed__42__*.json")))
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04trunc", os.urandom(256)])
def test_corrupt_checkpoint_is_one_line_naming_the_file(tmp_path, content, capsys):
    folder = tmp_path / "quadratic_deep" / "SGD" / "num_epochs__1__batch_size__128__lr__1.e-02"
    folder.mkdir(parents=True)
    checkpoint_path(folder, 42).write_bytes(content)
    assert _cli(tmp_path, "--hp", "lr=0.01", "--resume") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "corrupt or truncated" in err and "Delete it" in err
    assert str(checkpoint_path(folder, 42)) in err


class Interrupt(Exception):
    pass


class StopAfter:
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, run):
        if run.epoch == self.epoch:
            raise Interrupt


def test_checkpoint_identity_names_optimizer_class_and_options(tmp_path):
    runner = StandardRunner(torch.optim.SGD, SGD)
    runner.callbacks.append(StopAfter(1))
    with pytest.raises(Interrupt):
        _run(tmp_path, runner, num_epochs=3, checkpoint_every=1)
    adam = StandardRunner(torch.optim.Adam, SGD, optimizer_name="SGD")
    with pytest.raises(
        ValueError,
        match="optimizer_class: checkpoint 'torch.optim.sgd.SGD', this run 'torch.optim.adam.Adam'",
    ):
        _run(tmp_path, adam, num_epochs=3, resume=True)
    with pytest.raises(ValueError, match="train_log_interval: checkpoint 10, this run 3"):
        _run(tmp_path, num_epochs=3, resume=True, train_log_interval=3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hyperparams": {"lr": float("nan")}}, "lr=nan is not a finite number"),
        ({"hyperparams": {"lr": 1e400}}, "lr=inf is not a finite number"),
        ({"l2_reg": float("nan")}, "l2_reg must be a finite number"),
        ({"random_seed": -1}, r"random_seed must be an integer in \[0, 4294967295\]"),
        ({"random_seed": 2**40}, "random_seed must be an integer in"),
        ({"hyperparams": {"lr": 0.1, "nesterov": "../../x"}}, "part of the results path"),
        ({"lr_sched_epochs": [1], "lr_sched_factors": [-0.5]}, "A negative factor"),
    ],
)
def test_bad_values_fail_before_training(tmp_path, kwargs, match):
    names = {"lr": {"type": float}, "nesterov": {"type": str, "default": "x"}}
    runner = LearningRateScheduleRunner(torch.optim.SGD, names)
    runner.callbacks.append(NoTraining())
    with pytest.raises(ValueError, match=match):
        _run(tmp_path, runner, **kwargs)
    assert not any(tmp_path.rglob("*.json"))


@pytest.mark.parametrize("name", ["../../escaped", "/abs/path", "..", "a/b"])
def test_optimizer_name_cannot_leave_the_output_dir(tmp_path, name):
    runner = StandardRunner(torch.optim.SGD, SGD, optimizer_name=name)
    with pytest.raises(ValueError, match="cannot be used in a results path"):
        _run(tmp_path, runner)
    assert not any(tmp_path.parent.rglob("escaped"))


@pytest.mark.parametrize(
    ("cls", "match"),
    [
        (collections.OrderedDict, "is not an optimizer"),
        (torch.nn.Linear, "is not an optimizer"),
        (torch.optim.Optimizer, "abstract base class"),
        (print, "is not an optimizer class"),
    ],
)
def test_not_an_optimizer(cls, match):
    with pytest.raises(TypeError, match=match):
        StandardRunner(cls, SGD)


@pytest.mark.parametrize(
    ("names", "error", "match"),
    [
        (["lr"], TypeError, "must be a dict such as"),
        ({"lr": float}, TypeError, r"hyperparameter_names\['lr'\] must be a dict"),
        ({"lr": {}, "beta": {"default": 1}}, ValueError, "Unknown hyperparameter.*beta.*Valid: lr"),
    ],
)
def test_hyperparameter_names_are_checked_like_the_cli(tmp_path, names, error, match):
    with pytest.raises(error, match=match):
        _run(tmp_path, StandardRunner(torch.optim.SGD, names))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--hp", "lr=abc"], "--hp lr='abc' is not a number"),
        (["--hp", "lr=nan"], "lr=nan is not a finite number"),
        (["--hp", "lr="], "has no value"),
        (["--hp", "lr=1e400"], "not a finite number"),
        (["--hp", "lr=0.1", "--hp", "lr=0.2"], "given twice"),
        (["--hp", "lr=0.1", "-r", "-1"], "random_seed must be an integer in"),
        (["--hp", "lr=0.1", "--optimizer-name", "../up"], "cannot be used in a results path"),
    ],
)
def test_cli_bad_inputs_are_one_line(tmp_path, capsys, extra, message):
    assert _cli(tmp_path, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("deepobs: error:") and message in err and "\n" not in err


@pytest.mark.parametrize(
    "path", ["collections.OrderedDict", "torch.nn.Linear", "torch.optim.Optimizer"]
)
def test_cli_not_an_optimizer(tmp_path, capsys, path):
    assert main(["run", "quadratic_deep", "--optimizer", path, "--output-dir", str(tmp_path)]) == 2
    assert "is not an optimizer" in capsys.readouterr().err


def test_cli_optimizer_from_a_file(tmp_path, capsys):
    (tmp_path / "my_opt.py").write_text("import torch\n\nclass MyOpt(torch.optim.SGD):\n    pass\n")
    assert (
        main(
            [
                "run",
                "quadratic_deep",
                "--optimizer",
                f"{tmp_path}/my_opt.py:MyOpt",
                "--hp",
                "lr=0.01",
                "-N",
                "1",
                "--device",
                "cpu",
                "--output-dir",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    assert (tmp_path / "out" / "quadratic_deep" / "MyOpt").is_dir()


def test_stale_temp_files_are_removed_and_sigterm_says_how_to_resume(tmp_path, caplog):
    folder = tmp_path / "quadratic_deep" / "SGD" / "num_epochs__3__batch_size__128__lr__5.e-02"
    folder.mkdir(parents=True)
    dead = 2**22 + 12345  # above the default pid_max: no such process
    stale = folder / f"random_seed__42__2026-01-01-00-00-00.json.{dead}.abcd.tmp"
    stale.write_text("{")
    other_seed = folder / f"random_seed__43__2026-01-01-00-00-00.json.{dead}.abcd.tmp"
    other_seed.write_text("{")

    class Term:
        def on_epoch_end(self, run):
            if run.epoch == 2:
                os.kill(os.getpid(), signal.SIGTERM)

    runner = StandardRunner(torch.optim.SGD, SGD)
    runner.callbacks.append(Term())
    with caplog.at_level(logging.WARNING), pytest.raises(KeyboardInterrupt):
        _run(tmp_path, runner, num_epochs=3, checkpoint_every=1)
    assert not stale.exists() and other_seed.exists()
    assert signal.getsignal(signal.SIGTERM) is not None  # restored
    message = caplog.text
    assert str(checkpoint_path(folder, 42)) in message and "--resume" in message


def test_resume_on_a_finished_seed_is_done(tmp_path, capsys):
    assert _cli(tmp_path, "--hp", "lr=0.01") == 0
    first = capsys.readouterr().out.split("results: ")[1].strip()
    assert _cli(tmp_path, "--hp", "lr=0.01", "--resume") == 0
    assert first in capsys.readouterr().out
    assert len(list(Path(first).parent.glob("random_seed__42__*.json"))) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("no_logs", "no"),
        ("print_train_iter", 1),
        ("skip_if_exists", "yes"),
        ("tb_log", 0),
        ("resume", "false"),
        ("compile", "no"),
        ("channels_last", 1.0),
    ],
)
def test_switches_take_only_bools(tmp_path, name, value):
    runner = StandardRunner(torch.optim.SGD, SGD)
    runner.callbacks.append(NoTraining())
    with pytest.raises(ValueError, match=f"^{name} must be True or False, got {value!r}"):
        _run(tmp_path, runner, **{name: value})
    assert not any(tmp_path.rglob("*.json"))


@pytest.mark.parametrize("name", ["data_dir", "output_dir", "tb_log_dir"])
def test_path_options_take_only_paths(tmp_path, name):
    runner = StandardRunner(torch.optim.SGD, SGD)
    runner.callbacks.append(NoTraining())
    with pytest.raises(TypeError, match=rf"^{name} must be a path \(str or os.PathLike\), got 5"):
        _run(tmp_path, runner, **{name: 5})


@pytest.mark.parametrize(
    ("names", "value", "match"),
    [
        (SGD, "abc", r"^hyperparameter lr must be a number \(float\), got 'abc'"),
        (SGD, True, r"^hyperparameter lr must be a number \(float\), got True"),
        (SGD, [0.1], r"^hyperparameter lr must be a number \(float\), got \[0.1\]"),
        ({"lr": {"type": int}}, 0.5, r"^hyperparameter lr must be an integer \(int\), got 0.5"),
    ],
)
def test_hyperparameters_get_their_declared_type(tmp_path, names, value, match):
    runner = StandardRunner(torch.optim.SGD, names)
    runner.callbacks.append(NoTraining())
    with pytest.raises(TypeError, match=match):
        _run(tmp_path, runner, hyperparams={"lr": value})


def test_an_int_is_a_float_hyperparameter_named_as_on_the_cli(tmp_path, capsys):
    runner, result = _run(tmp_path, hyperparams={"lr": 1}, num_epochs=0)
    assert type(result["optimizer_hyperparams"]["lr"]) is int
    assert runner.last_results_path.parent.name.endswith("__lr__1")
    assert _cli(tmp_path / "cli", "--hp", "lr=1", "-N", "0") == 0
    cli_path = Path(capsys.readouterr().out.split("results: ")[1].strip())
    assert cli_path.parent.name == runner.last_results_path.parent.name


def test_defaults_come_from_the_config_table_first(tmp_path, monkeypatch):
    import deepobs.config

    settings = deepobs.config.DEFAULT_TEST_PROBLEMS_SETTINGS
    with pytest.raises(
        ValueError,
        match=r"'two_d_beale' has no default batch_size; pass "
        r"batch_size=\.\.\. \(CLI: --batch-size\)",
    ):
        StandardRunner._use_default("two_d_beale", "batch_size")
    runner = StandardRunner(torch.optim.SGD, SGD)
    with pytest.raises(ValueError, match=r"'two_d_beale' has no default num_epochs.*--num-epochs"):
        runner.run(
            testproblem="two_d_beale",
            hyperparams={"lr": 0.01},
            batch_size=4,
            output_dir=tmp_path,
            device="cpu",
        )
    monkeypatch.setitem(settings, "two_d_beale", {"batch_size": 500, "num_epochs": 0})
    monkeypatch.setitem(settings, "quadratic_deep", {"batch_size": 32, "num_epochs": 0})
    assert StandardRunner._use_default("two_d_beale", "num_epochs") == 0
    result = runner.run(
        testproblem="two_d_beale", hyperparams={"lr": 0.01}, output_dir=tmp_path, device="cpu"
    )
    assert (result["batch_size"], result["num_epochs"]) == (500, 0)
    result = runner.run(
        testproblem="quadratic_deep", hyperparams={"lr": 0.01}, output_dir=tmp_path, device="cpu"
    )
    assert (result["batch_size"], result["num_epochs"]) == (32, 0)
    monkeypatch.delitem(settings, "quadratic_deep")  # not in the table: the registry's spec
    assert StandardRunner._use_default("quadratic_deep", "batch_size") == 128
