"""Datasets: readers, preparation from raw files, the registry, fetching and synthetic data."""
