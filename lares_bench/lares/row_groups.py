"""LARES passes in length groups (``LARESConfig.row_groups``; the idea and the measured saving
are in baselines/row_groups.py). A recurrent pass also carries a depth, drawn ONCE for every
group, and an optional initial state S_0, cut like the windows. The same function: positions
count from the oldest item and padding is never attended to (tested); only the order of the
random draws differs (dropout masks and S_0 are drawn per group). The frequency backbones (fmlp,
bsarec) filter a fixed max_len window, so they are never grouped.
"""

from __future__ import annotations

import torch

from baselines.row_groups import length_groups


def run_grouped(
    model,
    seq: torch.Tensor,
    depth: int | None,
    init_state: torch.Tensor | None,
    all_steps: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``model.run`` over ``seq`` [B, L] (left-padded), group by group; ONE depth for every
    row (drawn here once when ``depth`` is None). ``init_state`` [B, L, d] is cut like the
    windows. Returns (final [B, d], per-step outputs [B, k, d] if ``all_steps``)."""
    k = model.resolve_depth(depth)
    lengths = (seq > 0).sum(1)
    finals, steps, rows_all = [], [], []
    for rows, width in length_groups(lengths):
        init = None if init_state is None else init_state[rows][:, -width:]
        f, s = model.run(seq[rows][:, -width:], depth=k, init_state=init, all_steps=all_steps,
                         grouped=False)
        finals.append(f)
        steps.append(s)
        rows_all.append(rows)
    back = torch.argsort(torch.cat(rows_all))  # group order -> batch order
    final = torch.cat(finals)[back]
    return final, (torch.cat(steps)[back] if all_steps else None)
