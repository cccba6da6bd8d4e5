"""Each consistency check of ``check_output`` (what ``deepobs analyze`` reports first) fires.

A real results file is written once; each case copies it with one inconsistency and expects
exactly that one reason for exactly that file, while the untouched tree stays clean.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from deepobs.pytorch.analyzer import check_output
from deepobs.pytorch.runners import StandardRunner


@pytest.fixture(scope="module")
def clean_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    StandardRunner(torch.optim.SGD, {"lr": {"type": float}}).run(
        testproblem="quadratic_deep",
        hyperparams={"lr": 0.01},
        num_epochs=1,
        output_dir=root,
        device="cpu",
    )
    return root


def _edit(data: dict, **changes) -> dict:
    return {**data, **changes}


CASES = {
    "seed in the file name": (
        lambda path: path.with_name("random_seed__7__2026-01-01-00-00-00.json"),
        lambda data: data,
        "file name says seed 7, file says 42",
    ),
    "setting folder": (
        lambda path: (
            path.parent.with_name(path.parent.name.replace("__1__", "__5__", 1)) / path.name
        ),
        lambda data: data,
        "setting folder does not start with num_epochs__1__",
    ),
    "done with a null loss": (
        lambda path: path.with_name("random_seed__43__2026-01-01-00-00-00.json"),
        lambda data: _edit(data, random_seed=43, test_losses=[data["test_losses"][0], None]),
        "status is 'done' but a loss list holds null/NaN",
    ),
    "diverged without an epoch": (
        lambda path: path.with_name("random_seed__44__2026-01-01-00-00-00.json"),
        lambda data: _edit(data, random_seed=44, status="diverged", diverged_at_epoch=None),
        "status is 'diverged' but diverged_at_epoch is missing",
    ),
}


def test_the_clean_tree_passes(clean_tree):
    report = check_output(clean_tree)
    assert report.ok and report.n_files == 1 and report.issues == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_inconsistency_is_reported_for_its_file(clean_tree, tmp_path, case):
    root = tmp_path / "results"
    shutil.copytree(clean_tree, root)
    (original,) = root.rglob("*.json")
    where, change, reason = CASES[case]
    target = where(original)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(change(json.loads(original.read_text()))))
    if target.parent != original.parent:
        original.unlink()  # the file moved to a wrong folder
        original.parent.rmdir()
    report = check_output(root)
    assert report.issues == [(target, reason)]
    assert not report.ok and reason in report.summary()
