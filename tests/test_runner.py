"""StandardRunner, PTRunner subclasses, result files, divergence and bad inputs."""

from __future__ import annotations

import json
import math

import pytest
import torch

from deepobs.pytorch.results.naming import float2str
from deepobs.pytorch.runners import LearningRateScheduleRunner, PTRunner, StandardRunner
from deepobs.pytorch.runners.lr_schedule import schedule_factor

SGD = {"lr": {"type": float}, "momentum": {"type": float, "default": 0.0}}
KEYS_1_2 = [
    "testproblem",
    "batch_size",
    "num_epochs",
    "random_seed",
    "weight_decay",
    "optimizer_name",
    "optimizer_hyperparams",
    "training_params",
    "train_losses",
    "valid_losses",
    "test_losses",
    "minibatch_train_losses",
]


def run_quadratic(tmp_path, lr=0.01, epochs=2, runner=None, **kwargs):
    runner = runner or StandardRunner(torch.optim.SGD, SGD)
    result = runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": lr},
        num_epochs=epochs,
        output_dir=tmp_path,
        device="cpu",
        **kwargs,
    )
    return runner, result


def test_result_file_has_every_key_and_lengths(tmp_path):
    runner, result = run_quadratic(tmp_path)
    path = runner.last_results_path
    assert path.parent.name == "num_epochs__2__batch_size__128__lr__1.e-02__momentum__0.e+00"
    assert path.parent.parent.name == "SGD" and path.name.startswith("random_seed__42__")
    data = json.loads(path.read_text())
    assert data == result
    assert all(key in data for key in KEYS_1_2)
    assert data["schema_version"] == 1 and data["status"] == "done"
    assert all(len(data[k]) == 3 for k in ("train_losses", "valid_losses", "test_losses"))
    assert "test_accuracies" not in data  # quadratic_deep has no accuracy
    assert len(data["minibatch_train_losses"]) == 2 * 1  # 7 steps, logged every 10th
    assert data["test_losses"][2] < data["test_losses"][0]
    meta = data["meta"]
    assert {
        "deepobs_version",
        "torch_version",
        "python_version",
        "device",
        "wall_time_s",
        "epoch_wall_times_s",
        "start_time",
    } <= set(meta)
    assert len(meta["epoch_wall_times_s"]) == 2


def test_same_seed_gives_bitwise_identical_curves(tmp_path):
    _, a = run_quadratic(tmp_path / "a", epochs=3)
    _, b = run_quadratic(tmp_path / "b", epochs=3)
    for key in ("train_losses", "valid_losses", "test_losses", "minibatch_train_losses"):
        assert a[key] == b[key]
    _, c = run_quadratic(tmp_path / "c", epochs=3, random_seed=43)
    assert c["train_losses"][1:] != a["train_losses"][1:]


def test_divergence_is_a_result_not_a_crash(tmp_path):
    runner, result = run_quadratic(tmp_path, lr=1e6, epochs=4)
    text = runner.last_results_path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert data["status"] == "diverged" and data["diverged_at_epoch"] == 1
    assert data["test_losses"][0] == pytest.approx(353.4468, abs=1e-3)
    assert data["test_losses"][1:] == [None] * 4  # padded, never back-filled
    assert len(data["train_losses"]) == 5


def test_long_run_lowers_loss_by_a_large_factor(tmp_path):
    _, result = run_quadratic(tmp_path, epochs=30, no_logs=True)
    assert result["test_losses"][-1] < result["test_losses"][0] / 3.5


def test_tuple_hyperparameters_and_name_override(tmp_path):
    runner = StandardRunner(
        torch.optim.Adam,
        {"lr": {"type": float}, "betas": {"type": tuple, "default": (0.9, 0.999)}},
        optimizer_name="AdamDefault",
    )
    runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.01},
        num_epochs=1,
        output_dir=tmp_path,
        device="cpu",
    )
    data = json.loads(runner.last_results_path.read_text())
    assert data["optimizer_hyperparams"]["betas"] == [0.9, 0.999]
    assert data["optimizer_name"] == "AdamDefault"
    assert "AdamDefault" in str(runner.last_results_path)


def test_closure_optimizer_lbfgs(tmp_path):
    runner = StandardRunner(
        torch.optim.LBFGS, {"lr": {"type": float}, "max_iter": {"type": int, "default": 3}}
    )
    result = runner.run(
        testproblem="two_d_rosenbrock",
        hyperparams={"lr": 0.1},
        batch_size=1000,
        num_epochs=1,
        no_logs=True,
        device="cpu",
    )
    assert math.isfinite(result["test_losses"][1])
    assert result["test_losses"][1] < result["test_losses"][0]


def test_lr_schedule_factors():
    assert [schedule_factor(e, [2, 4], [0.1, 0.01]) for e in range(6)] == [
        1,
        1,
        0.1,
        0.1,
        0.01,
        0.01,
    ]


def test_lr_schedule_runner_records_and_applies(tmp_path):
    seen = []

    class Spy(LearningRateScheduleRunner):
        def _before_epoch(self, optimizer, epoch):
            super()._before_epoch(optimizer, epoch)
            seen.append(optimizer.param_groups[0]["lr"])

    runner = Spy(torch.optim.SGD, SGD)
    result = runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.3},
        num_epochs=3,
        output_dir=tmp_path,
        device="cpu",
        lr_sched_epochs=[1, 2],
        lr_sched_factors=[0.1, 0.01],
    )
    assert seen == pytest.approx([0.3, 0.03, 0.003])
    assert result["training_params"] == {"lr_sched_epochs": [1, 2], "lr_sched_factors": [0.1, 0.01]}
    assert "lr_sched_epochs__[1, 2]" in str(runner.last_results_path)
    with pytest.raises(ValueError, match="equal length"):
        runner.run(
            testproblem="quadratic_deep",
            hyperparams={"lr": 0.3},
            num_epochs=1,
            no_logs=True,
            lr_sched_epochs=[1],
            lr_sched_factors=[0.1, 0.2],
        )


def test_custom_runner_subclass(tmp_path):
    class MyRunner(PTRunner):
        def training(
            self,
            tproblem,
            hyperparams,
            num_epochs,
            print_train_iter,
            train_log_interval,
            tb_log,
            tb_log_dir,
            clip=None,
        ):
            self.clip = clip
            opt = self._optimizer_class(tproblem.model.parameters(), **hyperparams)
            lists = [[] for _ in range(6)]
            for epoch in range(num_epochs + 1):
                self.evaluate_all(epoch, num_epochs, tproblem, *lists)
                if epoch == num_epochs:
                    break
                tproblem.train_init_op()
                while True:
                    try:
                        opt.zero_grad()
                        loss, _ = tproblem.get_batch_loss_and_accuracy()
                    except StopIteration:
                        break
                    loss.backward()
                    opt.step()
            names = [
                "train_losses",
                "valid_losses",
                "test_losses",
                "train_accuracies",
                "valid_accuracies",
                "test_accuracies",
            ]
            return {**dict(zip(names, lists)), "minibatch_train_losses": []}

    runner = MyRunner(torch.optim.SGD, SGD)
    result = runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.01},
        num_epochs=2,
        output_dir=tmp_path,
        device="cpu",
        clip=1.0,
    )
    assert runner.clip == 1.0 and result["status"] == "done"
    assert result["training_params"] == {"clip": 1.0} and len(result["test_losses"]) == 3
    loss, acc = runner.evaluate(runner_problem := _problem(), "TEST")
    assert acc is None and loss == pytest.approx(353.4468, abs=1e-3)
    with pytest.raises(ValueError, match="Unknown phase"):
        runner.evaluate(runner_problem, "TRAINING")
    with pytest.raises(ValueError, match="Unknown training parameter"):
        StandardRunner(torch.optim.SGD, SGD).run(
            testproblem="quadratic_deep",
            hyperparams={"lr": 0.1},
            num_epochs=1,
            no_logs=True,
            clip=1.0,
        )


def _problem():
    from deepobs.pytorch import testproblems

    p = testproblems.quadratic_deep(batch_size=128, device="cpu")
    p.set_up()
    return p


def test_user_problem_attribute_found_by_runner(tmp_path, monkeypatch):
    from deepobs.pytorch import testproblems

    class my_quadratic(testproblems.quadratic_deep):  # noqa: N801
        """A user's problem, set as a package attribute."""

    my_quadratic.spec = None
    monkeypatch.setattr(testproblems, "my_quadratic", my_quadratic, raising=False)
    result = StandardRunner(torch.optim.SGD, SGD).run(
        testproblem="my_quadratic",
        hyperparams={"lr": 0.01},
        batch_size=100,
        num_epochs=1,
        output_dir=tmp_path,
        device="cpu",
    )
    assert result["testproblem"] == "my_quadratic" and result["status"] == "done"


def test_skip_if_exists(tmp_path, caplog):
    runner, _ = run_quadratic(tmp_path, epochs=1)
    again = runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.01},
        num_epochs=1,
        output_dir=tmp_path,
        skip_if_exists=True,
        device="cpu",
    )
    assert again is None
    assert "already exists" in caplog.text and "skip_if_exists=False" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"testproblem": "quadratic_dep"}, "Did you mean 'quadratic_deep'"),
        ({"num_epochs": -1}, "num_epochs must be >= 0"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"batch_size": 5000}, "at most 1000"),
        ({"hyperparams": {"lr": 0.1, "beta": 2}}, r"Unknown hyperparameter\(s\) \['beta'\]"),
        ({"hyperparams": {}}, "Hyperparameter 'lr' has no default"),
        ({"testproblem": "two_d_beale"}, "no default batch_size"),
    ],
)
def test_bad_inputs_fail_before_training(tmp_path, kwargs, match):
    args = {
        "testproblem": "quadratic_deep",
        "hyperparams": {"lr": 0.1},
        "num_epochs": 1,
        "output_dir": tmp_path,
        "device": "cpu",
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        StandardRunner(torch.optim.SGD, SGD).run(**args)
    assert not any(tmp_path.rglob("*.json"))


def test_output_dir_that_is_a_file(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="is a file"):
        run_quadratic(blocker / "sub")


def test_interrupted_write_leaves_no_partial_file(tmp_path, monkeypatch):
    from deepobs.pytorch.results import write

    def interrupted(*args):
        raise KeyboardInterrupt

    runner = StandardRunner(torch.optim.SGD, SGD)
    monkeypatch.setattr(write.os, "link", interrupted)  # killed while publishing the file
    with pytest.raises(KeyboardInterrupt):
        run_quadratic(tmp_path, runner=runner, epochs=1)
    assert list(tmp_path.rglob("*.json*")) == []


def test_float2str_matches_deepobs():
    assert float2str(0.001) == "1.e-03"
    assert float2str(0.99) == "9.9e-01"
    assert float2str(1e-8) == "1.e-08"
    assert float2str(10**-3.4) == "3.9810717055e-04"
    assert float2str(True) == "True" and float2str(3) == "3"


def test_command_line_mode(monkeypatch, tmp_path):
    monkeypatch.setattr(
        "sys.argv",
        [
            "script",
            "quadratic_deep",
            "--lr",
            "0.05",
            "-N",
            "1",
            "--output_dir",
            str(tmp_path),
            "--momentum",
            "0.5",
        ],
    )
    runner = StandardRunner(torch.optim.SGD, SGD)
    result = runner.run(device="cpu")
    assert result["optimizer_hyperparams"] == {"lr": 0.05, "momentum": 0.5}
    assert result["num_epochs"] == 1 and result["batch_size"] == 128


def test_grad_accumulation_matches_full_batch(tmp_path):
    runner = StandardRunner(torch.optim.SGD, SGD)
    _, full = run_quadratic(tmp_path, epochs=2, runner=runner, no_logs=True)
    _, accumulated = run_quadratic(
        tmp_path, epochs=2, runner=runner, no_logs=True, grad_accumulation=4
    )
    assert accumulated["training_params"] == {"grad_accumulation": 4}
    assert accumulated["test_losses"] == pytest.approx(full["test_losses"], rel=1e-5)
    with pytest.raises(ValueError, match="not divisible by grad_accumulation=3"):
        run_quadratic(tmp_path, runner=runner, no_logs=True, grad_accumulation=3)


def test_lr_schedule_runner_passes_standard_training_params(tmp_path):
    runner = LearningRateScheduleRunner(torch.optim.SGD, SGD)
    result = runner.run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.01},
        num_epochs=2,
        no_logs=True,
        device="cpu",
        lr_sched_epochs=[1],
        lr_sched_factors=[0.5],
        grad_accumulation=2,
    )
    assert result["training_params"]["grad_accumulation"] == 2
    with pytest.raises(ValueError, match="Unknown training parameter"):
        runner.run(
            testproblem="quadratic_deep",
            hyperparams={"lr": 0.01},
            num_epochs=1,
            no_logs=True,
            clip=1.0,
        )


def test_foreign_command_line_is_ignored_when_called_from_python(monkeypatch):
    monkeypatch.setattr("sys.argv", ["pytest", "-rs", "-q", "tests"])
    with pytest.raises(ValueError, match="Hyperparameter 'lr' has no default"):
        StandardRunner(torch.optim.SGD, SGD).run(
            testproblem="quadratic_deep", hyperparams={}, num_epochs=1, no_logs=True
        )


def test_bad_script_command_line_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["script", "quadratic_deep", "--lr", "0.1", "-r", "x"])
    with pytest.raises(SystemExit) as exit_info:
        StandardRunner(torch.optim.SGD, SGD).run()
    assert exit_info.value.code == 2
    assert "invalid int value: 'x'" in capsys.readouterr().err
