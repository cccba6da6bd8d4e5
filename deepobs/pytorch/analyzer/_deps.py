"""Guard for the optional ``analyzer`` extra (pandas, matplotlib)."""

from __future__ import annotations

import importlib

INSTALL_HINT = 'pip install "deepobs[analyzer]"'


def require(*modules: str) -> None:
    """Import ``modules`` or raise an ImportError that names the install command.

    Raises:
        ImportError: if one of the modules is not installed.
    """
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as err:
            raise ImportError(
                f"The deepobs analyzer needs the package {name!r}, which is not installed. "
                f"Install the analyzer extra: {INSTALL_HINT}"
            ) from err
