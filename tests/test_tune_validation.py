"""``deepobs tune`` refuses a bad setting before it opens the study, and workers never repeat work.

* Every bad input is one ``deepobs: error:`` line with exit status 2, and no study (no trial,
  failed or otherwise) is left behind.
* Workers sharing a sampler seed get distinct per-worker seeds; each rerun seed is claimed by
  exactly one worker.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings

import optuna
import pytest
import torch

from deepobs.pytorch.cli import main
from deepobs.pytorch.tuner import OptunaSearch, SearchSpace, StudyOptions, _claims

LR = {"lr": {"min": 1e-3, "max": 0.1, "scaling": "log"}}


def tune_argv(tmp_path, *extra, space=LR):
    argv = [
        "tune",
        "quadratic_deep",
        "--optimizer",
        "torch.optim.SGD",
        "-N",
        "1",
        "--device",
        "cpu",
        "--output-dir",
        str(tmp_path / "out"),
        "--quiet",
    ]
    if space is not None:
        path = tmp_path / "space.json"
        path.write_text(json.dumps(space)) if isinstance(space, dict) else path.write_bytes(space)
        argv += ["--space", str(path)]
    return [*argv, *extra]


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.err.count("\n") == 1 and captured.err.startswith("deepobs: error: "), captured
    return captured.err


BAD_SETTINGS = {
    "batch size 0": (["--batch-size", "0"], "batch_size must be a positive integer, got 0"),
    "epochs -1": (["-N", "-1"], "num_epochs must be a positive integer, got -1"),
    "negative L2": (["--l2-reg", "-0.5"], "l2_reg must be a finite number >= 0, got -0.5"),
    "seed 2**40": (["-r", str(2**40)], "random_seed must be an integer in [0, 2**32)"),
    "sampler seed -1": (["--sampler-seed", "-1"], "sampler_seed (--sampler-seed) must be an"),
    "unknown storage": (["--storage", "foo://x"], "--storage 'foo://x' is not a database URL"),
    "not a URL": (["--storage", "not a url"], "--storage 'not a url' is not a database URL"),
    "in-memory storage": (["--storage", "sqlite://"], "in-memory SQLite database"),
    "missing folder": (
        ["--storage", "sqlite:////no/such/folder/x.db"],
        "folder '/no/such/folder' does not exist",
    ),
    "unreachable server": (
        ["--storage", "postgresql+psycopg2://u:secret@127.0.0.1:9/db"],
        "Cannot open the study storage 'postgresql+psycopg2://u:***@",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_bad_setting_is_one_line_before_the_study_opens(tmp_path, capsys, case):
    extra, message = BAD_SETTINGS[case]
    assert main(tune_argv(tmp_path, "--trials", "1", *extra)) == 2
    err = one_error_line(capsys)
    assert message in err and "secret" not in err
    assert not (tmp_path / "out" / "optuna.db").exists()  # no study, so no failed trial


def test_missing_data_is_refused_before_the_study_opens(tmp_path, capsys):
    argv = tune_argv(tmp_path, "--trials", "1", "--data-dir", str(tmp_path / "data"))
    argv[1] = "mnist_logreg"
    assert main(argv) == 2
    err = one_error_line(capsys)
    assert "Data set 'mnist' of mnist_logreg is not in" in err and "deepobs download mnist" in err
    assert not (tmp_path / "out" / "optuna.db").exists()


def test_grid_with_zero_trials_is_refused(tmp_path, capsys):
    assert main(tune_argv(tmp_path, "--grid", "lr", "--trials", "0", space=None)) == 2
    assert "n_trials (--trials) must be a positive integer, got 0" in one_error_line(capsys)
    assert not (tmp_path / "out" / "optuna.db").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"lr": {"min": -Infinity, "max": 1}}', "min and max must be finite numbers"),
        (b'{"lr": {"min": 1e-5, "max": Infinity, "scaling": "log"}}', "must be finite"),
        (b'{"lr": {"min": NaN, "max": 1}}', "must be finite"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "is not valid JSON"),
        (b"{}", "The search space is empty"),
    ],
    ids=["-inf", "+inf", "nan", "binary", "empty"],
)
def test_bad_space_file_names_the_file(tmp_path, capsys, content, message):
    assert main(tune_argv(tmp_path, "--trials", "1", space=content)) == 2
    err = one_error_line(capsys)
    assert message in err and str(tmp_path / "space.json") in err


def test_grid_points_stay_inside_their_range_without_warnings():
    # np.logspace(log10(0.3), ...) starts at 0.29999999999999993: Optuna would warn.
    space = SearchSpace.from_dict(
        {
            "m": {"min": 0.3, "max": 0.7, "scaling": "log", "num": 5},
            "lr": {"min": 1e-5, "max": 100.0, "scaling": "log", "num": 36},
        }
    )
    grid = space.grid()
    assert grid["m"][0] == 0.3 and grid["m"][-1] == 0.7 and len(grid["lr"]) == 36
    study = optuna.create_study(sampler=optuna.samplers.GridSampler(grid, seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(40):
            trial = study.ask()
            values = space.suggest(trial)
            study.tell(trial, values["m"] + values["lr"])
    assert min(t.params["lr"] for t in study.trials) == 1e-5


# ---------------------------------------------------------------------------- workers
def test_workers_sharing_a_sampler_seed_get_distinct_seeds(tmp_path):
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'optuna.db'}")
    first = _claims.claim_worker_slot(optuna, storage, "study")
    second = _claims.claim_worker_slot(optuna, storage, "study")
    assert (first[0], second[0]) == (0, 1)
    assert _claims.worker_seed(5, 0, 0) == 5  # one seeded worker stays reproducible
    seeds = {_claims.worker_seed(5, slot, n) for slot in range(3) for n in (0, 4)}
    assert len(seeds) == 6
    _claims.release(storage, first[1])
    assert _claims.claim_worker_slot(optuna, storage, "study")[0] == 0  # a freed slot is reused


def test_two_seeded_workers_propose_different_trials(tmp_path):
    # The second worker joins while the first still holds its slot (as when run concurrently).
    (tmp_path / "out").mkdir()
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'out' / 'optuna.db'}")
    held = _claims.claim_worker_slot(optuna, storage, "shared")
    search = OptunaSearch(torch.optim.SGD, LR)
    options = StudyOptions(study_name="shared", sampler="random", sampler_seed=3)
    study = search.tune(
        "quadratic_deep", 2, tmp_path / "out", options=options, num_epochs=1, device="cpu"
    )
    _claims.release(storage, held[1])
    alone = OptunaSearch(torch.optim.SGD, LR).tune(
        "quadratic_deep",
        2,
        tmp_path / "alone",
        options=StudyOptions(study_name="shared", sampler="random", sampler_seed=3),
        num_epochs=1,
        device="cpu",
    )
    joined = [t.params["lr"] for t in study.trials]
    first = [t.params["lr"] for t in alone.trials]
    assert len(set(joined)) == len(set(first)) == 2 and not set(joined) & set(first)
    names = optuna.get_all_study_names(storage)
    assert names == ["shared"]  # the worker released its slot


def test_rerun_seeds_are_claimed_by_one_worker_each(tmp_path):
    search = OptunaSearch(torch.optim.SGD, {"lr": {"choices": [0.01]}})
    study = search.tune(
        "quadratic_deep",
        1,
        tmp_path,
        options=StudyOptions(sampler="grid"),
        num_epochs=1,
        device="cpu",
    )
    storage = study._storage
    # another worker is rerunning seed 44 right now
    assert _claims.claim(optuna, storage, f"{study.study_name}::rerun-seed-44")
    done = search.rerun_best(study, tmp_path, seeds=[43, 44, 45], device="cpu")
    assert sorted(r["random_seed"] for r in done) == [43, 45]
    files = sorted(p.name.split("__")[1] for p in tmp_path.rglob("random_seed__*.json"))
    assert files == ["42", "43", "45"]
    _claims.release(storage, f"{study.study_name}::rerun-seed-44")
    again = search.rerun_best(study, tmp_path, seeds=[43, 44, 45], device="cpu")
    assert [r["random_seed"] for r in again] == [44]  # 43 and 45 exist: skipped
    assert optuna.get_all_study_names(storage) == [study.study_name]  # claims released


@pytest.mark.skipif(
    not os.environ.get("DEEPOBS_TEST_POSTGRES_URL"),
    reason='DEEPOBS_TEST_POSTGRES_URL is not set (run `eval "$(.ci/postgres.sh)"`)',
)
def test_claims_are_exclusive_on_postgresql():
    storage = optuna.storages.RDBStorage(os.environ["DEEPOBS_TEST_POSTGRES_URL"])
    name = f"claims-{uuid.uuid4().hex}"
    assert _claims.claim(optuna, storage, f"{name}::rerun-seed-43")
    assert not _claims.claim(optuna, storage, f"{name}::rerun-seed-43")  # held by a live process
    slots = [_claims.claim_worker_slot(optuna, storage, name) for _ in range(2)]
    assert [slot for slot, _ in slots] == [0, 1]
    for claim in [f"{name}::rerun-seed-43", *(c for _, c in slots)]:
        _claims.release(storage, claim)
    assert not [n for n in optuna.get_all_study_names(storage) if n.startswith(name)]


def test_a_claim_of_a_stopped_process_is_taken_over(tmp_path):
    import socket
    import subprocess
    import sys

    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'optuna.db'}")
    assert _claims.claim(optuna, storage, "study::rerun-seed-43")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    study_id = storage.get_study_id_from_name("study::rerun-seed-43")
    storage.set_study_user_attr(study_id, "holder", f"{socket.gethostname()}:{gone}")
    assert _claims.claim(optuna, storage, "study::rerun-seed-43")  # its holder no longer runs
    storage.set_study_user_attr(
        storage.get_study_id_from_name("study::rerun-seed-43"), "holder", "other-host:1"
    )
    assert not _claims.claim(optuna, storage, "study::rerun-seed-43")  # cannot tell: kept
