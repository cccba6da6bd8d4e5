"""The command line, called in-process through ``main([...])``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deepobs.pytorch.cli import main


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "quadratic_deep" in out and "generated" in out


def test_list_markdown_and_no_match(capsys):
    assert main(["list", "two_d_*", "--format", "markdown"]) == 0
    assert "| `two_d_beale` |" in capsys.readouterr().out
    assert main(["list", "nothing*"]) == 2
    assert "No test problem matches" in capsys.readouterr().err


def test_run_writes_a_valid_result(tmp_path, capsys):
    code = main(
        [
            "run",
            "quadratic_deep",
            "--optimizer",
            "torch.optim.SGD",
            "--hp",
            "lr=0.01",
            "--num-epochs",
            "3",
            "--output-dir",
            str(tmp_path),
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    path = out.split("results: ")[1].strip()
    data = json.loads(Path(path).read_text())
    assert data["optimizer_name"] == "SGD" and data["optimizer_hyperparams"] == {"lr": 0.01}
    assert len(data["test_losses"]) == 4 and data["status"] == "done"


def test_run_momentum_name_and_colon_path(tmp_path, capsys):
    code = main(
        [
            "run",
            "quadratic_deep",
            "--optimizer",
            "torch.optim:SGD",
            "--hp",
            "lr=0.01",
            "--hp",
            "momentum=0.9",
            "--optimizer-name",
            "Momentum",
            "-N",
            "1",
            "--output-dir",
            str(tmp_path),
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    assert (tmp_path / "quadratic_deep" / "Momentum").is_dir()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "quadratic_dep", "--optimizer", "torch.optim.SGD"], "Did you mean"),
        (["run", "quadratic_deep", "--optimizer", "torch.optim.SGX"], "Cannot import optimizer"),
        (["run", "quadratic_deep", "--optimizer", "nope_module.Opt"], "Cannot import optimizer"),
        (
            ["run", "quadratic_deep", "--optimizer", "torch.optim.SGD", "--hp", "lrr=1"],
            "Valid: lr, momentum",
        ),
        (["run", "quadratic_deep", "--optimizer", "torch.optim.SGD", "--hp", "lr"], "NAME=VALUE"),
        (["run", "quadratic_deep", "--optimizer", "torch.optim.SGD", "-N", "-2"], "num_epochs"),
        (
            ["run", "quadratic_deep", "--optimizer", "torch.optim.SGD", "--batch-size", "0"],
            "batch_size",
        ),
        (
            ["run", "quadratic_deep", "--optimizer", "torch.optim.SGD", "--device", "gpu"],
            "Unknown device",
        ),
    ],
)
def test_user_errors_are_one_line_exit_2(argv, message, capsys, tmp_path):
    assert main([*argv, "--output-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deepobs: error: ") and message in err
    assert "Traceback" not in err


def test_run_output_dir_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    argv = [
        "run",
        "quadratic_deep",
        "--optimizer",
        "torch.optim.SGD",
        "-N",
        "1",
        "--output-dir",
        str(blocker),
    ]
    assert main(argv) == 2
    assert "is a file" in capsys.readouterr().err


def test_skip_if_exists(tmp_path, capsys):
    argv = [
        "run",
        "quadratic_deep",
        "--optimizer",
        "torch.optim.SGD",
        "--hp",
        "lr=0.01",
        "-N",
        "1",
        "--output-dir",
        str(tmp_path),
        "--device",
        "cpu",
    ]
    assert main(argv) == 0
    assert main([*argv, "--skip-if-exists"]) == 0
    assert "skipped" in capsys.readouterr().out
    assert len(list(tmp_path.rglob("*.json"))) == 1


def test_smoke(capsys):
    assert main(["smoke", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.count("ok ") == 5 and "passed" in out


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "deepobs", "--version"], capture_output=True, text=True, check=True
    )
    assert proc.stdout.startswith("deepobs 1.2")
