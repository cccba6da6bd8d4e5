"""``deepobs smoke``: check an installation in about 30 seconds, one line per check."""

from __future__ import annotations

import tempfile
import time
import warnings

CHECKS = ("torch", "device", "problems", "training", "results")


def register(subparsers) -> None:
    """Add the ``smoke`` sub-command."""
    p = subparsers.add_parser("smoke", help="check that this installation works")
    p.add_argument("--device", help="device to check (default: the best available)")
    p.set_defaults(func=run)


def _check_torch(state) -> str:
    import torch

    return f"torch {torch.__version__}"


def _check_device(state) -> str:
    from deepobs.pytorch import config

    state["device"] = config.validate_device(state["device"] or config.get_default_device())
    return state["device"]


def _check_problems(state) -> str:
    from deepobs.pytorch.testproblems import get_testproblem_class, list_testproblems

    names = list_testproblems()
    for name in names:
        cls = get_testproblem_class(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            cls(batch_size=cls.spec.batch_size or 2, device="cpu")
    return f"{len(names)} problems constructible"


def _data_free_problems() -> list[str]:
    from deepobs.pytorch import datasets
    from deepobs.pytorch.testproblems import get_testproblem_class, list_testproblems

    def generated(name: str) -> bool:
        cls = datasets.DATASETS.get(get_testproblem_class(name).spec.dataset)
        return cls is not None and not cls.requires_files

    return [n for n in list_testproblems() if generated(n)]


def _check_training(state) -> str:
    import torch

    from deepobs.pytorch.runners import StandardRunner

    runner = StandardRunner(torch.optim.SGD, {"lr": {"type": float}})
    state["tmp"] = tempfile.mkdtemp(prefix="deepobs-smoke-")
    names = _data_free_problems()
    for name in names:
        runner.run(
            testproblem=name,
            hyperparams={"lr": 1e-5},  # two_d_beale diverges at 1e-4
            batch_size=128,
            num_epochs=1,
            output_dir=state["tmp"],
            device=state["device"],
        )
    state["path"] = runner.last_results_path
    return f"1 epoch of SGD on {', '.join(names)}"


def _check_results(state) -> str:
    from deepobs.pytorch.results.read import read_run

    run = read_run(state["path"])
    if run.status != "done" or len(run.curves["test_losses"]) != 2:
        raise ValueError(f"unexpected result in {state['path']}")
    return f"results JSON written and read back ({state['path']})"


def run(args) -> int:
    """Run the checks in order; stop at the first failure."""
    import logging

    logging.getLogger("deepobs").setLevel(logging.WARNING)  # one line per check, no epochs
    state = {"device": args.device}
    for name in CHECKS:
        start = time.perf_counter()
        try:
            detail = globals()[f"_check_{name}"](state)
        except Exception as err:  # a smoke test reports every failure, then exits non-zero
            hint = " (install it: pip install torch)" if name == "torch" else ""
            print(f"FAIL  {name:9s} {type(err).__name__}: {err}{hint}")
            return 1
        print(f"ok    {name:9s} {detail} [{time.perf_counter() - start:.1f} s]")
    print("deepobs smoke test passed")
    return 0
