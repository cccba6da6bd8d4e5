"""Former home of the performance options; see :mod:`._performance` and :mod:`._step`."""

from deepobs.pytorch.runners._performance import (  # noqa: F401
    AMP_DTYPES,
    EVAL_BATCH_FACTOR,
    PerformanceOptions,
    batch_independent_eval,
    chunk_eval_loaders,
    eval_chunk_size,
    set_up,
)
from deepobs.pytorch.runners._step import TrainStep, step_takes_closure  # noqa: F401
