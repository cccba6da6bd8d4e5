"""Names in a results tree: setting folders, result files, checkpoints (reference §5.5).

Tree: ``<output_dir>/<testproblem>/<optimizer_name>/<setting>/random_seed__<S>__<time>.json``
with ``<setting>`` = ``num_epochs__N__batch_size__B[__l2_reg__W]__<hp>__<v>...[__<tp>__<v>...]``
as DeepOBS ``develop`` names it: ``l2_reg`` appears when the run was given one (older trees
spell it ``weight_decay``; readers accept both), every hyperparameter sorted by name, then the
training parameters that change what is measured (sorted by name).

A name never holds an object ``repr`` or a memory address, and every component stays far
below the 255-byte file-name limit: a value that is not a plain number, a short string or a
short list of numbers is described by its qualified name (hyperparameters) or left out of the
name (training parameters; they are recorded in the results file).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

#: Longest value written into a folder name (characters).
MAX_VALUE_CHARS = 64
#: Longest setting folder name (bytes); file systems allow 255.
MAX_FOLDER_BYTES = 240
_SAFE = re.compile(r"[^A-Za-z0-9._+\-\[\], ]")


def float2str(value: object) -> str:
    """DeepOBS number format: ``"{:.10e}"`` with trailing mantissa zeros removed.

    ``0.001 -> "1.e-03"``, ``0.99 -> "9.9e-01"``; anything but a float goes through ``str``.
    """
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    mantissa, exponent = f"{value:.10e}".split("e")
    return f"{mantissa.rstrip('0')}e{exponent}"


def describe(value: object) -> str:
    """A readable, address-free description of ``value`` (qualified name for code objects).

    ``torch.optim.SGD -> "torch.optim.SGD"``, a function ``-> "module.name"``, a
    ``functools.partial`` ``-> "functools.partial(module.name, ...)"``; other objects are
    described by their class.
    """
    if isinstance(value, functools.partial):
        return f"functools.partial({describe(value.func)})"
    qualname = getattr(value, "__qualname__", None)
    if isinstance(qualname, str) and (isinstance(value, type) or callable(value)):
        module = getattr(value, "__module__", None)
        return f"{module}.{qualname}" if module else qualname
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__} object"


def plain_value(value: object) -> str | None:
    """The name form of a plain value, or ``None`` if ``value`` is not plain and short.

    Plain: bool, int, finite float, a string of safe characters, or a list/tuple of numbers.
    """
    if isinstance(value, bool | int):
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        text = float2str(value)
    elif isinstance(value, str):
        text = value
        if not text or _SAFE.search(text) or text in (".", ".."):
            return None
    elif isinstance(value, list | tuple) and all(
        isinstance(v, bool | int | float) and not (isinstance(v, float) and not math.isfinite(v))
        for v in value
    ):
        text = str(list(value))
    else:
        return None
    return text if len(text) <= MAX_VALUE_CHARS else None


def hyperparameter_value(value: object) -> str:
    """Name form of a hyperparameter: :func:`plain_value`, else a short safe description."""
    text = plain_value(value)
    if text is not None:
        return text
    if isinstance(value, list | tuple | dict | set | frozenset):
        kind = type(value).__name__
        return f"{kind}{len(value)}"
    return _SAFE.sub("_", describe(value))[:MAX_VALUE_CHARS]


def setting_folder_name(
    num_epochs: int,
    batch_size: int,
    hyperparams: Mapping[str, object],
    training_params: Mapping[str, object],
    l2_reg: float | None = None,
) -> str:
    """``num_epochs__N__batch_size__B[__l2_reg__W]__<hp>__<v>...__<tp>__<v>...``.

    ``training_params`` are those that belong in the name (see
    :func:`name_training_params`); values that are not plain are left out.

    Raises:
        ValueError: if the name would exceed :data:`MAX_FOLDER_BYTES`.
    """
    parts = [f"num_epochs__{num_epochs}", f"batch_size__{batch_size}"]
    if l2_reg is not None:
        parts.append(f"l2_reg__{float2str(l2_reg)}")
    parts += [f"{k}__{hyperparameter_value(hyperparams[k])}" for k in sorted(hyperparams)]
    for key in sorted(training_params):
        text = plain_value(training_params[key])
        if text is not None:
            parts.append(f"{key}__{text}")
    name = "__".join(parts)
    if len(name.encode()) > MAX_FOLDER_BYTES:
        raise ValueError(
            f"The setting folder name would be {len(name.encode())} bytes ({name[:60]}...); "
            f"file systems allow 255. Use fewer or shorter hyperparameter values."
        )
    return name


def run_folder(output_dir: str | Path, testproblem: str, optimizer_name: str, setting: str) -> Path:
    """``<output_dir>/<testproblem>/<optimizer_name>/<setting>``."""
    return Path(output_dir) / testproblem / optimizer_name / setting


def file_stem_prefix(random_seed: int) -> str:
    """``random_seed__<S>__`` (DeepOBS ``_filename_no_date``)."""
    return f"random_seed__{random_seed}__"


def result_file_stem(random_seed: int, start: datetime) -> str:
    """``random_seed__<S>__<YYYY-MM-DD-HH-MM-SS>`` (the run's start time), without ``.json``."""
    return f"{file_stem_prefix(random_seed)}{start:%Y-%m-%d-%H-%M-%S}"


def result_file_name(random_seed: int, start: datetime) -> str:
    """``random_seed__<S>__<YYYY-MM-DD-HH-MM-SS>.json``."""
    return result_file_stem(random_seed, start) + ".json"


def existing_results(folder: Path, random_seed: int) -> list[Path]:
    """Result files of ``random_seed`` already in ``folder``."""
    return sorted(Path(folder).glob(f"{file_stem_prefix(random_seed)}*.json"))


def checkpoint_path(folder: Path, random_seed: int) -> Path:
    """``<run folder>/checkpoint__random_seed__<S>.pt``."""
    return Path(folder) / f"checkpoint__random_seed__{random_seed}.pt"


def check_path_component(kind: str, value: str) -> str:
    """Refuse a name that would leave its folder: separators, ``.``/``..``, absolute paths.

    Raises:
        ValueError: naming ``kind``, the value and the fix.
    """
    text = str(value)
    if (
        not text
        or text in (".", "..")
        or "/" in text
        or "\\" in text
        or "\0" in text
        or Path(text).is_absolute()
    ):
        raise ValueError(
            f"{kind} {text!r} cannot be used in a results path: it must be a plain name "
            "without '/', '\\', '.' or '..'. Pick a simple name such as 'SGD_momentum'."
        )
    if len(text.encode("utf-8")) > MAX_FOLDER_BYTES:
        raise ValueError(
            f"{kind} {text[:40]!r}... is {len(text.encode('utf-8'))} bytes long; a folder name "
            f"may have at most {MAX_FOLDER_BYTES}. Pick a shorter name such as 'SGD_momentum'."
        )
    return text
