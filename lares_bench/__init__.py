"""lares-bench: benchmark and ablation suite for latent reasoning in sequential recommendation."""

__version__ = "0.3.0"  # part of every run hash: bump when results would change
