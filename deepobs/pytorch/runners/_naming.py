"""Former home of the result names; see :mod:`deepobs.pytorch.results.naming`."""

from deepobs.pytorch.results.naming import (  # noqa: F401
    existing_results,
    float2str,
    result_file_name,
    run_folder,
    setting_folder_name,
)
