"""Row grouping: run the rows of a training batch in groups of similar length.

A random batch of example-mode rows is left-padded to its longest row. On beauty that is almost
always max_len (50) while the median training prefix holds 4 items, so most of a pass's work is
padding. Grouped, the rows of window length in (2^(j-1), 2^j] run together, cut to their own
longest row, and the outputs go back in batch order: the batch keeps its rows, so in-batch
negatives see the same batch. Measured on beauty's 131,413 training examples in random batches
of 1024: 4.8x fewer token positions and 9.0x less attention work.

Exact for causal Transformer encoders with left padding whose positions do not depend on the
amount of padding (``layers.position_ids``: "end" numbers the newest item max_len - 1, "start"
the oldest 0, whatever the window width) and that never attend to padding: cutting padding then
changes no real position's output (tested per model). Only the order of random draws differs
(dropout masks are drawn per group). Models opt in with ``row_groupable`` and a ``row_groups``
config field ("auto" = on for CPU; GPUs are bound by kernel launches at these sizes, and the
split into groups is not timed there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

ROW_GROUP_MODES = ("auto", "on", "off")


def row_groups_on(mode: str, device: torch.device) -> bool:
    if mode not in ROW_GROUP_MODES:
        raise ValueError(f"row_groups must be one of {ROW_GROUP_MODES}, got {mode!r}")
    return mode == "on" or (mode == "auto" and device.type == "cpu")


def length_groups(lengths: torch.Tensor) -> list[tuple[torch.Tensor, int]]:
    """(row indices, width) per group of ``lengths`` [B] (window lengths) in (2^(j-1), 2^j],
    ascending j, rows in batch order within a group; width = the group's longest row (>= 1)."""
    lengths = lengths.clamp(min=1)
    group = torch.ceil(torch.log2(lengths.double())).long()
    order = torch.argsort(group, stable=True)
    sizes = torch.bincount(group[order])
    chunks = order.split(sizes[sizes > 0].tolist())
    return [(rows, int(lengths[rows].max())) for rows in chunks]


def grouped_rows(fn: Callable[..., Any], seq: torch.Tensor, *aligned: torch.Tensor | None) -> Any:
    """``fn`` over ``seq`` [B, L] group by group, each group cut to its own width: fn(windows
    [b, w], *aligned cut alike ([b, w, ...]; None stays None)) -> per-row outputs [b, ...], or
    a tuple of them (None entries stay None). The outputs [B, ...] in batch order."""
    outs, rows_all = [], []
    for rows, width in length_groups((seq > 0).sum(1)):
        cut = [None if a is None else a[rows][:, -width:] for a in aligned]
        out = fn(seq[rows][:, -width:], *cut)
        outs.append(out if isinstance(out, tuple) else (out,))
        rows_all.append(rows)
    back = torch.argsort(torch.cat(rows_all))
    merged = tuple(None if parts[0] is None else torch.cat(parts)[back] for parts in zip(*outs, strict=True))
    return merged if isinstance(out, tuple) else merged[0]
