"""Property-based fuzzing of the command line and ``StandardRunner.run``.

Every outcome is either success or a clean refusal:

* CLI (``deepobs run``/``tune``/``analyze``, called in-process): exit status 0, or exit status
  2 with a single error line (``deepobs: error: ...``, or argparse's ``usage`` plus
  ``deepobs <command>: error: ...``) and never a traceback. A successful run has a complete
  results file inside ``--output-dir`` (never a lost run), and nothing is ever written outside
  it.
* Python API: a results dict and its complete file, or a ``ValueError``, ``TypeError``,
  ``FileNotFoundError``, ``PermissionError`` or ``NotADirectoryError`` whose message names the
  keyword or the value.

Each example changes one option of a valid call to a value drawn from a pool of bad and edge
values (plus random valid extras), so a refusal must name that option. The example budget
comes from the Hypothesis profile (``tests/conftest.py``): small and fixed by default and in
CI, ``HYPOTHESIS_PROFILE=thorough`` for a few hundred per test.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import re
import sys
from pathlib import Path
from unittest import mock

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deepobs.pytorch.cli import main
from deepobs.pytorch.runners import StandardRunner

API_ERRORS = (ValueError, TypeError, FileNotFoundError, PermissionError, NotADirectoryError)
ERROR_LINE = re.compile(r"^deepobs(?: [\w-]+)?: error: \S")

# ------------------------------------------------------------------------ the pools
#: ``deepobs run`` options: option -> values to try (bad, edge and good).
RUN_OPTIONS = {
    "testproblem": [
        "quadratic_deep",
        "two_d_beale",
        "quadratic",
        "no_such_problem",
        "",
        "../quadratic_deep",
        "QUADRATIC_DEEP",
    ],
    "--optimizer": [
        "torch.optim.SGD",
        "torch.optim.Adam",
        "torch.optim.LBFGS",
        "collections.OrderedDict",
        "torch.nn.Linear",
        "torch.optim.Optimizer",
        "no.such.Module",
        "torch.optim:SGD",
        "torch.optim.",
        "os.system",
        "",
    ],
    "--hp": [
        "lr=0.1",
        "lr=abc",
        "lr=nan",
        "lr=1e400",
        "lr=-inf",
        "lr=",
        "=0.1",
        "lr",
        "momentum=-1",
        "lr=-0.1",
        "nesterov=True",
        "betas=(0.9,0.99)",
        "lr=0.1,0.2",
        "foo=1",
        "lr='../../x'",
        "lr=[0.1]",
        "lr={}",
        "lr=True",
        "lr=1e-30",
    ],
    "--optimizer-name": [
        "MySGD",
        "../../escaped",
        "/abs/name",
        ".",
        "..",
        "a/b",
        "",
        " ",
        "x" * 300,
        "n\x00ul",
        "名前",
    ],
    "--num-epochs": ["0", "1", "-1", "-2", "1.5", "x", "", "2**40", "1e3"],
    "--batch-size": ["0", "-1", "1", "7", "1000000", "x", "2.0"],
    "--random-seed": ["-1", "0", "42", str(2**32), str(2**40), "x", "1.5"],
    "--l2-reg": ["0", "1e-4", "-1", "nan", "inf", "x", "1e400"],
    "--device": ["cpu", "gpu", "cuda:x", "tpu", "", "cpu:0", "meta"],
    "--train-log-interval": ["0", "-1", "1", "5", "x"],
    "--lr-sched-epochs": [["1"], ["-1"], ["0", "0"], ["x"], ["1", "2"]],
    "--lr-sched-factors": [["0.1"], ["-0.1"], ["nan"], ["inf"], ["x"], ["0.1", "0.01"]],
    "--grad-accumulation": ["0", "-1", "1", "2", "3", "x"],
    "--amp": ["off", "bf16", "fp16", "fp32", ""],
    "--eval-batch-size": ["0", "-1", "1", "x"],
    "--checkpoint-every": ["0", "-1", "1", "x"],
    "--tb-log-dir": ["../../tb_outside", "tb"],
}
RUN_SWITCHES = [
    "--no-logs",
    "--skip-if-exists",
    "--resume",
    "--print-train-iter",
    "--channels-last",
]

#: ``deepobs tune`` options (``--space`` is a file with the given content).
TUNE_OPTIONS = {
    "--space": [
        '{"lr": {"min": 1e-3, "max": 0.1, "scaling": "log"}}',
        '{"lr": {"min": -Infinity, "max": 1}}',
        '{"lr": {"min": 0, "max": 1, "scaling": "log"}}',
        "{}",
        "[]",
        "not json",
        "\x89PNG\x00\xff",
        '{"lr": {"choices": []}}',
        '{"lr": {"min": 1, "max": 0.1}}',
        '{"momentum": {"min": 0, "max": 0.9}}',
        '{"foo": {"min": 0, "max": 1}}',
        '{"lr": {"min": 1e-3, "max": 0.1, "num": 1}}',
        '{"lr": {"min": NaN, "max": 1}}',
    ],
    "--trials": ["0", "-1", "1", "x", "1.5"],
    "--grid": ["lr", "momentum", "foo", ""],
    "--storage": [
        "foo://x",
        "not a url",
        "sqlite://",
        "sqlite:////no/such/dir/x.db",
        "postgresql+psycopg2://u:pw@127.0.0.1:9/db",
        "sqlite:///STUDY.db",
    ],
    "--sampler": ["tpe", "random", "grid", "cmaes"],
    "--sampler-seed": ["-1", "0", str(2**40), "x"],
    "--pruner": ["none", "median", "hyperband"],
    "--metric": ["valid_losses", "test_losses", "valid_accuracies", "foo", ""],
    "--hp": ["momentum=0.9", "momentum=x", "lr=0.1", "foo=1", "momentum=nan"],
    "--num-epochs": ["0", "1", "-1", "x"],
    "--batch-size": ["0", "-1", "7", "x"],
    "--random-seed": ["-1", "0", str(2**40), "x"],
    "--l2-reg": ["-1", "nan", "inf", "0"],
    "--study-name": ["", "a/b", "ok", "x" * 600],
    "--optimizer-name": ["../../escaped", "ok", ""],
    "--device": ["gpu", "cpu"],
}

#: ``deepobs analyze`` options; RESULTS_DIR is one of the prepared trees.
ANALYZE_TREES = ["missing", "a_file", "empty", "corrupt_only", "binary_only"]
ANALYZE_OPTIONS = {
    "--format": ["png", "jpg", "", "png,tex,foo", ","],
    "--mode": ["final", "best", "worst"],
    "--metric": ["valid_losses", "foo", ""],
    "--baselines": ["deepobs-1.1", "/no/such/dir", ""],
    "--style": ["default", "nature"],
    "--band": ["std", "iqr"],
}

#: ``StandardRunner.run`` keywords: keyword -> values to try.
API_VALUES = {
    "testproblem": ["quadratic_deep", "no_such_problem", "", None, 3, "../x"],
    "hyperparams": [
        {"lr": 0.1},
        {"lr": math.nan},
        {"lr": math.inf},
        {"lr": -1.0},
        {"lr": "abc"},
        {"lr": None},
        {"lr": [0.1]},
        {"lr": {0.1}},
        {"lr": lambda: 0.1},
        {"lr": functools.partial(float, 1)},
        {"lr": 0.1, "foo": 1},
        {},
        {"lr": "../../x"},
        {"lr": True},
        "lr=0.1",
        None,
        {"lr": 1e400},
        {"lr": torch.tensor(0.1)},
    ],
    "num_epochs": [0, 1, -1, 1.5, "1", None, True, math.nan, math.inf],
    "batch_size": [0, -1, 1, 7, 1.5, "8", None, False, 10**9],
    "random_seed": [-1, 0, 42, 2**32, 2**40, 1.5, "42", None, True],
    "l2_reg": [0.0, 1e-4, -1.0, math.nan, math.inf, "x", [0.1]],
    "weight_decay": [0.0, 1e-4, -1.0, math.nan, "x"],
    "train_log_interval": [0, -1, 1, 3, 1.5, "x", None],
    "print_train_iter": [True, False, "yes", None, 1],
    "no_logs": [True, False, "no", 1],
    "skip_if_exists": [True, False, "yes"],
    "device": ["cpu", "gpu", "cuda:x", "", 0, None, torch.device("cpu"), "meta"],
    "output_dir": ["ok", "a_file", "a_file/below", "read_only", "", None],
    "eval_batch_size": [0, -1, 1, None, "x", 2.5],
    "amp": ["off", "bf16", "fp32", None, True],
    "grad_accumulation": [0, -1, 1, 2, 3, 1.5, "2"],
    "checkpoint_every": [0, -1, 1, "x", 1.5],
    "resume": [True, False, "yes"],
    "compile": ["yes", 1],
    "channels_last": ["yes", None],
    "data_dir": [None, "no_such_dir", 5],
}


# ------------------------------------------------------------------------ helpers
def budget(share: float):
    """This test's share of the profile's example budget (CI: 25, thorough: 300)."""
    return settings(max_examples=max(1, round(settings.default.max_examples * share)))


def call_cli(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` in this process: (exit status, stdout, stderr); never raises."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def assert_clean_refusal(code: int, err: str, argv) -> None:
    assert "Traceback" not in err, (argv, err)
    assert code == 2, (argv, code, err)
    lines = [line for line in err.splitlines() if line.strip()]
    if lines and lines[0].startswith("usage:"):  # argparse: usage, then one error line
        lines = [line for line in lines if not line.startswith((" ", "usage:"))]
    errors = [line for line in lines if ERROR_LINE.match(line)]
    assert len(errors) == 1 and errors[0] == lines[-1], (argv, err)


def assert_complete_results(folder: Path, before: set[Path], argv) -> None:
    new = [p for p in files_under(folder) - before if p.suffix == ".json"]
    assert len(new) == 1, (argv, sorted(map(str, new)))
    data = json.loads(new[0].read_text())
    for key in ("train_losses", "valid_losses", "test_losses"):
        assert len(data[key]) == data["num_epochs"] + 1, (argv, key)
    assert data["status"] in ("done", "diverged")


def assert_nothing_outside(root: Path, allowed: list[Path], argv) -> None:
    for path in files_under(root):
        assert any(a in path.parents or a == path for a in allowed), (argv, path)


def option_value(option: str, value) -> list[str]:
    return [option, *value] if isinstance(value, list) else [option, value]


# ------------------------------------------------------------------------ deepobs run
@st.composite
def run_argv(draw):
    """A valid quick ``deepobs run`` with one option replaced by a value from its pool."""
    options = {
        "testproblem": "quadratic_deep",
        "--optimizer": "torch.optim.SGD",
        "--hp": "lr=0.01",
        "--num-epochs": "1",
        "--device": "cpu",
    }
    fuzzed = draw(st.sampled_from(sorted(RUN_OPTIONS)))
    options[fuzzed] = draw(st.sampled_from(RUN_OPTIONS[fuzzed]))
    if fuzzed == "--batch-size" and options[fuzzed] == "1":
        options["--num-epochs"] = "0"  # 1,000 steps per epoch: keep the example quick
    switches = draw(st.lists(st.sampled_from(RUN_SWITCHES), max_size=2, unique=True))
    extra_hp = draw(st.sampled_from([[], ["--hp", "momentum=0.5"], ["--hp", "lr=0.02"]]))
    argv = ["run", options.pop("testproblem")]
    for option, value in options.items():
        argv += option_value(option, value)
    return argv + extra_hp + switches, fuzzed


def check_run_cli(argv: list[str], root: Path) -> None:
    """``deepobs run ARGV --output-dir ROOT/out``: a complete result or a clean refusal."""
    out = root / "out"
    argv = [*argv, "--output-dir", str(out)]
    code, stdout, err = call_cli(argv)
    if code == 0:
        assert "Traceback" not in err, (argv, err)
        if "--no-logs" not in argv:  # a fresh folder: --resume and --skip-if-exists run too
            assert_complete_results(out, set(), argv)
    else:
        assert_clean_refusal(code, err, argv)
    assert_nothing_outside(root, [out], argv)


@budget(0.4)
@given(case=run_argv())
def test_deepobs_run_arguments(case, tmp_path_factory):
    check_run_cli(case[0], tmp_path_factory.mktemp("run"))


BASE_RUN = [
    "run",
    "quadratic_deep",
    "--optimizer",
    "torch.optim.SGD",
    "--hp",
    "lr=0.01",
    "-N",
    "1",
    "--device",
    "cpu",
]


def test_cli_case_found_by_fuzzing_long_optimizer_name(tmp_path):
    check_run_cli([*BASE_RUN, "--optimizer-name", "x" * 300], tmp_path)


def test_cli_case_found_by_fuzzing_meta_device(tmp_path):
    check_run_cli([*BASE_RUN[:-2], "--device", "meta"], tmp_path)


# ------------------------------------------------------------------------ deepobs tune
@st.composite
def tune_argv(draw):
    options = {
        "--space": TUNE_OPTIONS["--space"][0],
        "--trials": "1",
        "--num-epochs": "1",
        "--device": "cpu",
    }
    fuzzed = draw(st.sampled_from(sorted(TUNE_OPTIONS)))
    options[fuzzed] = draw(st.sampled_from(TUNE_OPTIONS[fuzzed]))
    if fuzzed == "--grid":
        del options["--space"]
        options["--trials"] = "1"
    return options, fuzzed


@budget(0.2)
@given(case=tune_argv())
def test_deepobs_tune_arguments(case, tmp_path_factory):
    options, _ = case
    root = tmp_path_factory.mktemp("tune")
    out = root / "out"
    argv = [
        "tune",
        "quadratic_deep",
        "--optimizer",
        "torch.optim.SGD",
        "--quiet",
        "--output-dir",
        str(out),
    ]
    for option, value in options.items():
        if option == "--space":
            (root / "space.json").write_bytes(value.encode("utf-8", "surrogateescape"))
            value = str(root / "space.json")
        if option == "--storage" and "STUDY.db" in value:
            value = value.replace("STUDY.db", str(root / "study.db"))
        argv += [option, value]
    code, stdout, err = call_cli(argv)
    if code == 0:
        assert "Traceback" not in err and "best trial" in stdout, (argv, err)
        assert_complete_results(out, set(), argv)
    else:
        assert_clean_refusal(code, err, argv)
    assert_nothing_outside(root, [out, root / "space.json", root / "study.db"], argv)


# ------------------------------------------------------------------------ deepobs analyze
def make_tree(root: Path, kind: str) -> Path:
    tree = root / "results"
    if kind == "a_file":
        tree.write_text("not a folder")
    elif kind in ("empty", "corrupt_only", "binary_only"):
        folder = tree / "quadratic_deep" / "SGD" / "num_epochs__1__batch_size__128__lr__1.e-02"
        folder.mkdir(parents=True)
        if kind == "corrupt_only":
            (folder / "random_seed__42__2026-01-01-00-00-00.json").write_text('{"testpro')
        elif kind == "binary_only":
            (folder / "random_seed__42__2026-01-01-00-00-00.json").write_bytes(b"\x00\xff" * 9)
    return tree


@budget(0.2)
@given(
    kind=st.sampled_from(ANALYZE_TREES),
    options=st.dictionaries(
        st.sampled_from(sorted(ANALYZE_OPTIONS)), st.integers(0, 5), max_size=2
    ),
)
def test_deepobs_analyze_arguments(kind, options, tmp_path_factory):
    root = tmp_path_factory.mktemp("analyze")
    argv = ["analyze", str(make_tree(root, kind)), "--out", str(root / "analysis"), "-q"]
    for option, index in options.items():
        values = ANALYZE_OPTIONS[option]
        argv += [option, values[index % len(values)]]
    code, stdout, err = call_cli(argv)
    if code != 0:
        assert_clean_refusal(code, err, argv)
    else:
        assert "Traceback" not in err, (argv, err)


# ------------------------------------------------------------------------ the Python API
def api_value(name: str, value, root: Path):
    if name == "output_dir" and isinstance(value, str):
        if value.startswith("a_file"):
            (root / "a_file").write_text("x")
        if value == "read_only":
            (root / "read_only").mkdir(exist_ok=True)
            (root / "read_only").chmod(0o500)
        return root / value if value else value
    if name == "data_dir" and value == "no_such_dir":
        return root / value
    return value


def check_api_call(name: str, value, root: Path) -> None:
    """``run()`` with ``name=value`` in a valid call: a complete result or a clean refusal."""
    # No training epoch (the command-line fuzzing trains): the checks and the evaluation run.
    kwargs = {
        "testproblem": "quadratic_deep",
        "hyperparams": {"lr": 0.01},
        "num_epochs": 0,
        "device": "cpu",
        "output_dir": root / "out",
    }
    kwargs[name] = api_value(name, value, root)
    out = kwargs["output_dir"] if isinstance(kwargs["output_dir"], Path) else None
    spec = {"lr": {"type": float}, "momentum": {"type": float, "default": 0.0}}
    try:  # a script with no arguments: None values may be read from its (empty) command line
        with mock.patch.object(sys, "argv", ["script.py"]):
            result = StandardRunner(torch.optim.SGD, spec).run(**kwargs)
    except API_ERRORS as err:
        message = str(err)
        assert "\n" not in message.strip(), (name, value, message)
        shown = [value, *(value.items() if isinstance(value, dict) else ())]
        shown = [x for v in shown for x in (v if isinstance(v, tuple) else (v,))]
        named = name in message or any(
            (str(v).strip() and str(v) in message) or repr(v) in message for v in shown
        )
        assert named, (name, value, message)
        return
    finally:
        if (root / "read_only").exists():
            (root / "read_only").chmod(0o700)
    skipped = result is None  # skip_if_exists / resume on an existing seed
    assert skipped or result["status"] in ("done", "diverged"), (name, value)
    if not skipped and out is not None and kwargs.get("no_logs") is not True:
        assert_complete_results(out, set(), (name, value))


@budget(0.4)
@given(name=st.sampled_from(sorted(API_VALUES)), data=st.data())
def test_standard_runner_run_keywords(name, data, tmp_path_factory):
    value = data.draw(st.sampled_from(API_VALUES[name]), label=name)
    check_api_call(name, value, tmp_path_factory.mktemp("api"))


#: Cases the fuzzing found (and that were fixed): always run, whatever the budget.
FOUND = [
    ("no_logs", "no"),
    ("data_dir", 5),
    ("hyperparams", {"lr": "abc"}),
    ("testproblem", None),
    ("hyperparams", {"lr": -1.0}),
]


@pytest.mark.parametrize(("name", "value"), FOUND, ids=[f"{n}={v!r}" for n, v in FOUND])
def test_cases_found_by_fuzzing(name, value, tmp_path):
    check_api_call(name, value, tmp_path)
