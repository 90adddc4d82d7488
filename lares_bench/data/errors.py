"""Errors of the data layer.

They all derive from `DataError`, so the CLI can turn any of them into a one-line message,
and each also derives from the built-in type a caller would naturally catch.
"""

from __future__ import annotations


class DataError(Exception):
    """Base class of every error the data layer raises on purpose."""


class DataFormatError(DataError, ValueError):
    """A data file does not have the expected format; the message names the file and line."""


class ChecksumMismatchError(DataError, ValueError):
    """A file's sha256 differs from the one recorded for it."""


class DatasetNotFoundError(DataError, FileNotFoundError):
    """No copy of a dataset was found in any of the places looked at."""


class UnknownDatasetError(DataError, LookupError):
    """A dataset name that is neither built in nor in the registry."""


class FetchError(DataError, OSError):
    """A download failed; the message says where to put the files by hand."""


class EmptyDatasetError(DataError, ValueError):
    """Nothing is left of a dataset after filtering."""
