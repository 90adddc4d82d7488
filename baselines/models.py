"""Imports every model module so that its ``@register`` decorator runs."""

from baselines import sasrec  # noqa: F401
from baselines import fmlprec  # noqa: F401
from baselines import bsarec  # noqa: F401
from baselines import rearec  # noqa: F401
from baselines import cl4srec  # noqa: F401
from baselines import duorec  # noqa: F401
