"""Imports every model module so that its ``@register`` decorator runs."""

# one import line per model module (several people add lines here): no isort merging
# ruff: noqa: I001
from baselines import sasrec  # noqa: F401
from baselines import gru4rec  # noqa: F401
from baselines import caser  # noqa: F401
from baselines import bert4rec  # noqa: F401
from baselines import popularity  # noqa: F401
from baselines import markov  # noqa: F401
from baselines import fmlprec  # noqa: F401
from baselines import bsarec  # noqa: F401
from baselines import rearec  # noqa: F401
from baselines import cl4srec  # noqa: F401
from baselines import duorec  # noqa: F401
from lares_bench.lares import model as _lares  # noqa: F401
