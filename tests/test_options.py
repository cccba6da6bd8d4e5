"""The one table of options: every option round-trips through every parser and command line."""

from __future__ import annotations

import shlex

import pytest
import torch

from deepobs.pytorch.cli import build_parser
from deepobs.pytorch.runners import LearningRateScheduleRunner, StandardRunner, options
from deepobs.pytorch.runners._resolve import resolve_arguments
from deepobs.pytorch.tuner import _commands

SGD = {"lr": {"type": float}}
#: A non-default value for every option a runner takes.
SAMPLES = {
    "batch_size": 32,
    "num_epochs": 3,
    "random_seed": 7,
    "l2_reg": 0.001,
    "data_dir": "d",
    "output_dir": "out",
    "device": "cpu",
    "train_log_interval": 5,
    "print_train_iter": True,
    "no_logs": True,
    "tb_log": True,
    "tb_log_dir": "tb",
    "skip_if_exists": True,
    "data_order": "fixed",
    "grad_accumulation": 2,
    "amp": "bf16",
    "compile": True,
    "channels_last": True,
    "eval_batch_size": 64,
    "lr_sched_epochs": [1, 2],
    "lr_sched_factors": [0.5, 0.1],
    "checkpoint_every": 2,
    "resume": True,
}
RUNNERS = {options.STANDARD: StandardRunner, options.LR_SCHEDULE: LearningRateScheduleRunner}
CASES = [(kind, o.name) for kind in RUNNERS for o in options.OPTIONS if o.kind != "cli"]


def test_every_option_has_a_sample_and_one_row():
    names = [o.name for o in options.OPTIONS]
    assert len(names) == len(set(names))
    assert {o.name for o in options.OPTIONS if o.kind != "cli"} == set(SAMPLES)


def _script_parse(runner, argv, monkeypatch) -> dict:
    monkeypatch.setattr("sys.argv", ["script.py", *argv])
    return runner._parse_command_line(strict=True)


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_option_round_trips(kind, name, monkeypatch, tmp_path):
    runner = RUNNERS[kind](torch.optim.SGD, SGD)
    option, value = options.BY_NAME[name], SAMPLES[name]
    takes = kind in option.runners
    kwargs = {} if name in ("random_seed", "output_dir") else {name: value}
    seed = value if name == "random_seed" else 42
    out = value if name == "output_dir" else "out"

    # 1. the runner script's parser reads what the tuner's script command writes
    script = shlex.split(
        _commands.script_command("s.py", "quadratic_deep", {"lr": 0.1}, seed, out, **kwargs)
    )
    assert script[:3] == ["python", "s.py", "quadratic_deep"]
    if not takes:
        with pytest.raises(SystemExit):
            _script_parse(runner, script[2:], monkeypatch)
        return
    parsed = _script_parse(runner, script[2:], monkeypatch)
    assert parsed[name] == value, script

    # 2. `deepobs run`'s parser reads what the tuner's deepobs-run command writes
    cli = shlex.split(
        _commands.deepobs_run_command(
            "quadratic_deep", torch.optim.SGD, {"lr": 0.1}, seed, out, **kwargs
        )
    )
    namespace = build_parser().parse_args(cli[1:])
    kinds = ("run", "training", "run_option")
    assert options.cli_values(namespace, kinds)[name] == value, cli

    # 3. the resolved run holds it where the table says
    if name in ("data_dir", "tb_log_dir"):
        parsed.pop("output_dir", None)
    args = resolve_arguments(runner, {k: None for k in _GIVEN}, {"lr": 0.1}, {}, parsed)
    if option.kind == "training":
        assert args.training_params[name] == value
        named = f"{name}__" in args.setting_name
        assert named == option.in_name
    elif option.kind == "run_option":
        assert args.run_options[name] == value
        assert f"{name}__" not in args.setting_name
    else:
        got = getattr(args, name)
        assert str(got) == str(value) if name in ("data_dir", "output_dir") else got == value

    # 4. the checkpoint identity tells a run with another value apart
    if option.identity:
        plain = resolve_arguments(
            runner,
            {k: None for k in _GIVEN},
            {"lr": 0.1},
            {},
            {"testproblem": "quadratic_deep", "output_dir": "out"},
        )
        assert (
            args.identity("SGD", torch.optim.SGD)[name]
            != plain.identity("SGD", torch.optim.SGD)[name]
        )


_GIVEN = (
    "testproblem",
    "batch_size",
    "num_epochs",
    "random_seed",
    "data_dir",
    "output_dir",
    "l2_reg",
    "weight_decay",
    "no_logs",
    "train_log_interval",
    "print_train_iter",
    "tb_log",
    "tb_log_dir",
    "device",
    "skip_if_exists",
)


def test_lr_runner_script_mode_takes_amp_and_data_order(monkeypatch, tmp_path):
    monkeypatch.setattr(
        "sys.argv",
        [
            "s.py",
            "quadratic_deep",
            "--lr",
            "0.1",
            "-N",
            "1",
            "--amp",
            "off",
            "--data_order",
            "fixed",
            "--lr_sched_epochs",
            "1",
            "--lr_sched_factors",
            "0.5",
            "--output_dir",
            str(tmp_path),
            "--device",
            "cpu",
        ],
    )
    result = LearningRateScheduleRunner(torch.optim.SGD, SGD).run()
    assert result["training_params"] == {
        "data_order": "fixed",
        "lr_sched_epochs": [1],
        "lr_sched_factors": [0.5],
    }


def test_unknown_keyword_cannot_be_written_on_a_command_line():
    with pytest.raises(ValueError, match="Cannot write clip=1"):
        _commands.deepobs_run_command(
            "quadratic_deep", torch.optim.SGD, {"lr": 0.1}, 42, "o", clip=1
        )
