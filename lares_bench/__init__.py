"""lares-bench: benchmark and ablation suite for latent reasoning in sequential recommendation."""

__version__ = "0.1.0"
