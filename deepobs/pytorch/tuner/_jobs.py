"""``deepobs tune --jobs-per-device K``: K worker processes of one study on one device."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys


def check_jobs(jobs) -> None:
    """Refuse a worker count that is not a positive integer (one line).

    Raises:
        ValueError: for ``jobs`` < 1 or not an integer.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(
            f"--jobs-per-device must be a positive integer, got {jobs!r}. Pass e.g. "
            "--jobs-per-device 2."
        )


def split_trials(total: int, jobs: int) -> list[int]:
    """Trials per worker: ``total`` split as evenly as possible, no worker without a trial."""
    jobs = min(jobs, total)
    return [total // jobs + (i < total % jobs) for i in range(jobs)]


def without_option(argv: list[str], option: str) -> list[str]:
    """``argv`` without ``option VALUE`` and ``option=VALUE``."""
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token == option:
            skip = True
        elif not token.startswith(option + "="):
            out.append(token)
    return out


def run_workers(argv: list[str], shares: list[int]) -> list[int]:
    """Start one ``deepobs`` worker per share, wait for all, return their exit codes.

    Each worker gets ``argv`` plus ``--worker-trials SHARE --quiet``; its standard output
    (its own summary) is dropped, its standard error shown. SIGTERM and Ctrl-C are forwarded.
    """
    procs: list[subprocess.Popen] = []

    def forward(signum, _frame=None) -> None:
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        for share in shares:
            cmd = [sys.executable, "-m", "deepobs", *argv, "--worker-trials", str(share), "-q"]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL))
        return [proc.wait() for proc in procs]
    except BaseException as err:  # Ctrl-C, or a worker that could not start: stop the others
        forward(signal.SIGINT if isinstance(err, KeyboardInterrupt) else signal.SIGTERM)
        for proc in procs:
            proc.wait()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
