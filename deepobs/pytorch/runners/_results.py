"""Former home of the result writer; see :mod:`deepobs.pytorch.results.write`."""

from deepobs.pytorch.results.write import (  # noqa: F401
    SCHEMA_VERSION,
    device_name,
    environment_meta,
    to_json_value,
)
