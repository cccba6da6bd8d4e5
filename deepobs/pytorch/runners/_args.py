"""The DeepOBS 1.2 runner command line: one flag per ``run()`` argument and hyperparameter."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence


def _add_hyperparameter(parser: argparse.ArgumentParser, name: str, spec: Mapping) -> None:
    kind = spec.get("type", float)
    flag = f"--{name}"
    if kind is bool:
        parser.add_argument(flag, action="store_true", default=None, help=f"{name} (flag)")
    elif kind in (tuple, list):
        parser.add_argument(flag, nargs="+", type=float, default=None, help=f"{name} (values)")
    else:
        parser.add_argument(flag, type=kind, default=None, help=f"{name} ({kind.__name__})")


def build_run_parser(
    hyperparameter_names: Mapping[str, Mapping], extra: Sequence[tuple[tuple, dict]] = ()
) -> argparse.ArgumentParser:
    """Parser for a runner script: ``python my_script.py quadratic_deep --lr 0.1 ...``.

    Every flag defaults to ``None`` so that values given in Python and the problem's defaults
    can fill the gaps.
    """
    p = argparse.ArgumentParser(description="Run an optimizer on a DeepOBS test problem.",
                                allow_abbrev=False, exit_on_error=False)
    p.add_argument("testproblem", nargs="?", default=None, help="name of the test problem")
    p.add_argument("--l2_reg", "--l2-reg", "--weight_decay", "--wd", dest="l2_reg", type=float)
    p.add_argument("--batch_size", "--bs", "--batch-size", dest="batch_size", type=int)
    p.add_argument("-N", "--num_epochs", "--num-epochs", dest="num_epochs", type=int)
    p.add_argument("-r", "--random_seed", "--random-seed", dest="random_seed", type=int)
    p.add_argument("--data_dir", "--data-dir", dest="data_dir")
    p.add_argument("--output_dir", "--output-dir", dest="output_dir")
    p.add_argument("--no_logs", "--no-logs", dest="no_logs", action="store_true", default=None)
    p.add_argument("--train_log_interval", "--train-log-interval", dest="train_log_interval",
                   type=int)
    p.add_argument("--print_train_iter", "--print-train-iter", dest="print_train_iter",
                   action="store_true", default=None)
    p.add_argument("--tb_log", "--tb-log", dest="tb_log", action="store_true", default=None)
    p.add_argument("--tb_log_dir", "--tb-log-dir", dest="tb_log_dir")
    for name, spec in hyperparameter_names.items():
        _add_hyperparameter(p, name, spec)
    for flags, kwargs in extra:
        p.add_argument(*flags, **kwargs)
    return p
