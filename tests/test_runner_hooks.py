"""The DeepOBS ``develop`` runner surface (cockpit, backobs) and values JSON cannot hold."""

from __future__ import annotations

import functools
import json

import pytest
import torch

from deepobs.pytorch.runners import LearningRateScheduleRunner, PTRunner, StandardRunner

SGD = {"lr": {"type": float, "default": 0.01}}


class DevelopStyleRunner(PTRunner):
    """A runner written against DeepOBS develop, as cockpit's and backobs' are."""

    def training(
        self,
        tproblem,
        hyperparams,
        num_epochs,
        print_train_iter,
        train_log_interval,
        tb_log,
        tb_log_dir,
        **training_params,
    ):
        self.seen = {
            "run_directory": self._run_directory,
            "file_name": self._file_name,
            "training_params": training_params,
        }
        opt = self._optimizer_class(tproblem.net.parameters(), **hyperparams)
        lists = [[] for _ in range(6)]
        minibatch = []
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
                minibatch.append(loss.item())
        names = (
            "train_losses",
            "valid_losses",
            "test_losses",
            "train_accuracies",
            "valid_accuracies",
            "test_accuracies",
        )
        return {**dict(zip(names, lists, strict=True)), "minibatch_train_losses": minibatch}

    def _add_training_params_to_argparse(self, parser, args, training_params):
        for name in training_params:  # cockpit: every training parameter, as given
            args[name] = training_params[name]

    def _post_process_output(
        self,
        output,
        testproblem,
        batch_size,
        num_epochs,
        random_seed,
        l2_reg,
        hyperparams,
        **training_params,
    ):
        for key in ("train_accuracies", "valid_accuracies", "test_accuracies"):
            output.pop(key, None)
        return {
            "testproblem": testproblem,
            "batch_size": batch_size,
            "num_epochs": num_epochs,
            "random_seed": random_seed,
            "l2_reg": l2_reg,
            "optimizer_name": self._optimizer_name,
            "optimizer_hyperparams": hyperparams,
            **output,
        }


def constant_schedule(num_epochs):
    """A schedule factory as cockpit passes it (a function: JSON cannot hold it)."""
    return lambda epoch: 1.0


def test_develop_hooks_folder_file_and_post_processing(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["script"])
    runner = DevelopStyleRunner(torch.optim.SGD, SGD)
    result = runner.run(
        testproblem="quadratic_deep",
        output_dir=str(tmp_path),
        l2_reg=0.0,
        num_epochs=1,
        device="cpu",
        lr_schedule=constant_schedule,
        show_plots=False,
    )
    folder, stem = runner.seen["run_directory"], runner.seen["file_name"]
    assert runner.seen["training_params"]["lr_schedule"] is constant_schedule
    path = runner.last_results_path
    assert str(path) == f"{folder}/{stem}.json"
    assert path.parent.name == (
        "num_epochs__1__batch_size__128__l2_reg__0.e+00__lr__1.e-02__show_plots__False"
    )
    data = json.loads(path.read_text())
    assert data == result and "training_params" not in data and data["l2_reg"] == 0.0
    assert len(data["test_losses"]) == 2


@pytest.mark.parametrize(
    "value",
    [
        constant_schedule,
        functools.partial(constant_schedule, 3),
        {1, 2},
        torch.tensor([1.0]),
        torch.optim.SGD,
        lambda epoch: 1.0,
    ],
)
def test_a_value_json_cannot_hold_never_loses_the_run(tmp_path, value):
    runner = DevelopStyleRunner(torch.optim.SGD, SGD)
    result = runner.run(
        testproblem="quadratic_deep",
        hyperparams={},
        num_epochs=0,
        output_dir=tmp_path,
        device="cpu",
        extra=value,
    )
    text = runner.last_results_path.read_text()
    assert json.loads(text) == result
    assert "0x" not in str(runner.last_results_path) and "<" not in runner.last_results_path.name
    assert "0x" not in text


def test_standard_runner_records_a_callable_training_parameter_by_name(tmp_path):
    class WithSchedule(StandardRunner):
        def training(
            self,
            tproblem,
            hyperparams,
            num_epochs,
            print_train_iter,
            train_log_interval,
            tb_log,
            tb_log_dir,
            lr_schedule=None,
        ):
            return super().training(
                tproblem,
                hyperparams,
                num_epochs,
                print_train_iter,
                train_log_interval,
                tb_log,
                tb_log_dir,
            )

    runner = WithSchedule(torch.optim.SGD, SGD)
    result = runner.run(
        testproblem="quadratic_deep",
        hyperparams={},
        num_epochs=1,
        output_dir=tmp_path,
        device="cpu",
        lr_schedule=constant_schedule,
    )
    assert result["training_params"]["lr_schedule"].endswith("test_runner_hooks.constant_schedule")
    assert "lr_schedule" not in runner.last_results_path.parent.name


def test_use_default_run_exists_and_abort_routine(tmp_path):
    assert PTRunner._use_default("quadratic_deep", "batch_size") == 128
    runner = StandardRunner(torch.optim.SGD, SGD)
    kwargs = {
        "testproblem": "quadratic_deep",
        "hyperparams": {},
        "num_epochs": 1,
        "output_dir": tmp_path,
        "device": "cpu",
    }
    assert runner.run_exists(**kwargs) == (False, [])
    runner.run(**kwargs)
    assert runner.run_exists(**kwargs) == (True, [str(runner.last_results_path)])
    lists = [[1.0] for _ in range(6)]
    minibatch = [2.0]
    with pytest.warns(RuntimeWarning, match="NaN or inf"):
        PTRunner._abort_routine(0, 3, *lists, minibatch)
    assert all(values == [1.0, None, None, None] for values in lists)


def test_folder_names_follow_develop(tmp_path):
    runner = LearningRateScheduleRunner(torch.optim.SGD, SGD)
    runner.run(
        testproblem="quadratic_deep",
        hyperparams={},
        num_epochs=1,
        output_dir=tmp_path,
        device="cpu",
        lr_sched_epochs=[1],
        lr_sched_factors=[0.5],
        grad_accumulation=2,
    )
    name = runner.last_results_path.parent.name
    assert name == (
        "num_epochs__1__batch_size__128__lr__1.e-02__lr_sched_epochs__[1]__lr_sched_factors__[0.5]"
    )  # grad_accumulation: recorded, not named
    assert len(name.encode()) < 255
