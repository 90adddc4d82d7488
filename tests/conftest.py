"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data folder (layout of ../shared/datasets) from LARES_BENCH_DATA, or skip."""
    value = os.environ.get("LARES_BENCH_DATA")
    if not value or not Path(value).is_dir():
        pytest.skip("real data: set LARES_BENCH_DATA to a folder laid out like shared/datasets")
    return Path(value)


def pytest_configure(config) -> None:
    # Test tensors are tiny: one intra-op thread avoids thread start-up and contention costs
    # that dominate them on a shared 2-core machine (CI). Benchmarks, not tests, measure speed.
    import torch

    torch.set_num_threads(1)
