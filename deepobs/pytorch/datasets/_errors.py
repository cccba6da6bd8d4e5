"""The error raised for a data file that is corrupted, incomplete or could not be fetched."""

from __future__ import annotations


class DataFileError(RuntimeError, ValueError):
    """A data file is corrupted, incomplete or could not be downloaded.

    The message names the file and the fix. It is a ``RuntimeError`` (what the data sets always
    raised) and a ``ValueError``: a bad file is bad input, so the command line reports it in one
    line with exit status 2, like every other user error.
    """
