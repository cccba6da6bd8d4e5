"""The one results reader (``deepobs.pytorch.results.read``): formats, folders, bad files."""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

import pytest

from deepobs.pytorch.results.read import ResultsFileError, read_run, read_runs

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference_results"
DATA = Path(__file__).parent / "data"


def pytorch_result(seed: int = 42, **changes) -> dict:
    """A schema-1 results file of this package (3 epochs), with ``changes`` applied."""
    curve = [2.0, 1.5, 1.2, 1.0]
    data = {
        "schema_version": 1,
        "testproblem": "mnist_logreg",
        "batch_size": 128,
        "num_epochs": 3,
        "random_seed": seed,
        "optimizer_name": "SGD",
        "optimizer_hyperparams": {"lr": 0.1},
        "training_params": {},
        "train_losses": curve,
        "valid_losses": curve,
        "test_losses": curve,
        "train_accuracies": [0.1, 0.5, 0.7, 0.8],
        "valid_accuracies": [0.1, 0.5, 0.7, 0.8],
        "test_accuracies": [0.1, 0.5, 0.7, 0.8],
        "status": "done",
        "diverged_at_epoch": None,
    }
    return {**data, **changes}


def write(root: Path, folder: str, data: dict) -> Path:
    path = root / "mnist_logreg" / "SGD" / folder / f"random_seed__{data['random_seed']}__x.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_old_and_new_l2_folders_and_keys(tmp_path):
    old = write(
        tmp_path,
        "num_epochs__3__batch_size__128__weight_decay__1.e-03__lr__1.e-01",
        pytorch_result(weight_decay=1e-3),
    )
    new = write(
        tmp_path,
        "num_epochs__3__batch_size__128__l2_reg__1.e-03__lr__1.e-01",
        pytorch_result(l2_reg=1e-3, weight_decay=None),
    )
    default = write(tmp_path, "num_epochs__3__batch_size__128__lr__1.e-01", pytorch_result())
    assert read_run(old).weight_decay == 1e-3 and read_run(new).weight_decay == 1e-3
    assert read_run(default).weight_decay is None
    assert read_run(new).setting == "num_epochs__3__batch_size__128__l2_reg__1.e-03__lr__1.e-01"
    runs, skipped = read_runs(tmp_path)
    assert len(runs) == 3 and not skipped and len({r.setting for r in runs}) == 3


def test_training_params_with_callables_and_data_order(tmp_path):
    params = {
        "lr_schedule": "torch.optim.lr_scheduler.StepLR",
        "callbacks": ["my.mod.Log"],
        "data_order": "fixed",
    }
    path = write(tmp_path, "a", pytorch_result(training_params=params))
    run = read_run(path)
    assert run.training_params == params and run.data_order == "fixed"
    assert read_run(write(tmp_path, "b", pytorch_result())).data_order == "reshuffle"
    published = next((DATA / "deepobs_1.1_baselines").rglob("random_seed__*.json"))
    assert read_run(published).data_order == "fixed"  # TF 1.1 replayed one order per run
    with pytest.raises(ResultsFileError, match="'training_params' must be an object"):
        read_run(write(tmp_path, "c", pytorch_result(training_params=["x"])))


def test_truncated_file_is_skipped_with_a_warning_naming_it(tmp_path, caplog):
    good = write(tmp_path, "a", pytorch_result())
    bad = write(tmp_path, "a", pytorch_result(seed=43))
    bad.write_text(bad.read_text()[:50], encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="deepobs"):
        runs, skipped = read_runs(tmp_path)
    assert [r.path for r in runs] == [good]
    assert skipped[0][0] == bad and "not readable as JSON" in skipped[0][1]
    assert f"Skipping {bad}" in caplog.text


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_reader_selection_tuner_and_baselines_need_no_pandas():
    """Nothing on the tuner's and the fetcher's path imports pandas or the analyzer."""
    package = Path(__file__).resolve().parents[1] / "deepobs" / "pytorch"
    files = [
        *(package / "results").glob("*.py"),
        package / "tuner" / "rerun.py",
        *(package / "baselines").glob("*.py"),
        package / "_cli" / "baselines.py",
    ]
    for path in files:
        heavy = {
            m
            for m in imported_modules(path)
            if m.split(".")[0] in ("pandas", "matplotlib")
            or m.startswith("deepobs.pytorch.analyzer")
        }
        assert not heavy, (path, heavy)


def test_only_the_reader_parses_results_files():
    """Analyzer, tuner and baselines read results through ``results.read`` only."""
    package = Path(__file__).resolve().parents[1] / "deepobs" / "pytorch"
    readers = [
        package / "analyzer" / "load.py",
        package / "analyzer" / "results.py",
        package / "analyzer" / "select.py",
        package / "tuner" / "rerun.py",
    ]
    for path in readers:
        text = path.read_text(encoding="utf-8")
        assert "json.load" not in text and "import json" not in text, path
