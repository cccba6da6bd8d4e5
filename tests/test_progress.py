"""The progress bar of ``deepobs run``: epochs, epoch time and ETA on stderr, rank 0 only."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from deepobs.pytorch import cli
from deepobs.pytorch.runners._progress import ProgressBar, is_rank_zero


def _fake_run(num_epochs: int = 3):
    return SimpleNamespace(
        epoch=0,
        num_epochs=num_epochs,
        status=None,
        tproblem=None,
        curves={"train_losses": [], "valid_losses": []},
    )


def _drive(bar: ProgressBar, run) -> None:
    """Call the hooks in the runner's order: start, evaluation 0, (epoch, evaluation)*."""
    bar.on_run_start(run)
    run.curves["train_losses"].append(2.0)
    run.curves["valid_losses"].append(2.5)
    bar.on_evaluation(run)
    for epoch in range(1, run.num_epochs + 1):
        run.epoch = epoch
        bar.on_epoch_end(run)
        run.curves["train_losses"].append(2.0 / (epoch + 1))
        run.curves["valid_losses"].append(float("nan") if epoch == 2 else 2.5 / (epoch + 1))
        bar.on_evaluation(run)
    run.status = "done"
    bar.on_run_end(run)


def test_bar_counts_epochs_and_shows_times():
    stream = io.StringIO()
    bar = ProgressBar(file=stream, disable=False, description="quadratic_deep")
    _drive(bar, _fake_run(3))
    text = stream.getvalue()
    assert "quadratic_deep" in text and "3/3" in text
    assert "epoch/s" in text or "s/epoch" in text
    assert "<" in text  # tqdm's elapsed<remaining (ETA)
    final = text.replace("\r", "\n").strip().splitlines()[-1]
    assert "train 0.5" in final and "valid 0.625" in final and "epoch " in final
    assert len(bar.epoch_times) == 3 and all(t >= 0 for t in bar.epoch_times)
    assert bar.bar is None  # closed


def test_bar_reports_divergence_and_resumes_mid_run():
    stream = io.StringIO()
    bar = ProgressBar(file=stream, disable=False)
    run = _fake_run(5)
    run.epoch = 2  # resumed from a checkpoint after epoch 2
    bar.on_run_start(run)
    assert bar.bar.n == 2
    run.epoch, run.status = 3, "diverged"
    bar.on_epoch_end(run)
    bar.on_run_end(run)
    assert "diverged at epoch 3" in stream.getvalue()


def test_only_rank_zero_draws(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    assert not is_rank_zero()
    stream = io.StringIO()
    _drive(ProgressBar(file=stream), _fake_run(2))
    assert stream.getvalue() == ""
    monkeypatch.setenv("RANK", "0")
    assert is_rank_zero()


@pytest.mark.parametrize("quiet", [[], ["-q"], ["-q", "after"]])
def test_cli_run_bar_and_quiet_flag(quiet, capsys):
    argv = [
        "run",
        "quadratic_deep",
        "--optimizer",
        "torch.optim.SGD",
        "--hp",
        "lr=0.01",
        "-N",
        "1",
        "--no-logs",
        "--batch-size",
        "128",
    ]
    if quiet == ["-q"]:
        argv = ["-q", *argv]  # before the sub-command
    elif quiet:
        argv = [*argv, "-q"]  # after it
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert ("100%|" in err and "1/1 [" in err) is (not quiet)  # the bar, not the log line
