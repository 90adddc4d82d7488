"""Depth samplers for the LARES recurrent core: how many core steps one forward pass takes.

Read from ``randomized_iteration_sampler`` in the authors' ``model.py`` (GitHub BishopLiu/LARES).
With m = ``mean_recurrence``:

  "poisson_lognormal"  rate ~ LogNormal(log m - s^2 / 2, s), k = Poisson(rate) + 1, capped at 3m.
                       E[rate] = m, so E[k] = m + 1 minus a tiny cap correction (the authors'
                       +1 shifts the mean; we keep it).
  "uniform"            k uniform on 1..2m (mean m + 1/2, cap 2m).
  "poisson"            k = Poisson(m) clipped to 1..2m (mean ~ m, cap 2m).
  "constant"           k = m.
  "none"               k = 1 (non-recurrent: the core is applied once, in training AND in
                       evaluation; see ``eval_depth``).

Deviations: the authors' "poisson-bounded" / "poisson-unbounded" schemes can draw k = 0 (the
output is then the random initial state itself, which never saw the input); our "poisson"
clips at 1 and at 2m (their bounded variant's cap). Their "non-recurrent" scheme trains with one
step but evaluates with m steps; ours evaluates with one step too (a non-recurrent model), unless
a depth is asked for explicitly.
"""

from __future__ import annotations

import math

import torch

SCHEMES = ("poisson_lognormal", "uniform", "poisson", "constant", "none")


def depth_cap(scheme: str, mean: int) -> int:
    """The largest depth ``scheme`` can draw."""
    caps = {
        "poisson_lognormal": 3 * mean,
        "uniform": 2 * mean,
        "poisson": 2 * mean,
        "constant": mean,
        "none": 1,
    }
    if scheme not in caps:
        raise ValueError(f"depth sampler must be one of {SCHEMES}, got {scheme!r}")
    return caps[scheme]


def sample_depths(
    scheme: str,
    mean: int,
    n: int = 1,
    sigma: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``n`` independent depths (int64 [n], each in 1..depth_cap) drawn on the CPU."""
    if mean < 1:
        raise ValueError(f"mean_recurrence must be >= 1, got {mean}")
    cap = depth_cap(scheme, mean)
    if scheme == "poisson_lognormal":
        mu = math.log(mean) - sigma**2 / 2
        rate = torch.exp(mu + sigma * torch.randn(n, generator=generator, dtype=torch.float64))
        k = torch.poisson(rate, generator=generator) + 1
    elif scheme == "uniform":
        k = torch.randint(1, 2 * mean + 1, (n,), generator=generator)
    elif scheme == "poisson":
        rate = torch.full((n,), float(mean), dtype=torch.float64)
        k = torch.poisson(rate, generator=generator).clamp(min=1)
    else:  # constant, none
        k = torch.full((n,), cap)
    return k.long().clamp(1, cap)


def sample_depth(
    scheme: str, mean: int, sigma: float = 0.5, generator: torch.Generator | None = None
) -> int:
    """One depth (a Python int: it sets the length of a Python loop over core steps)."""
    return int(sample_depths(scheme, mean, 1, sigma, generator)[0])
