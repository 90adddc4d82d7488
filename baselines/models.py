"""Imports every model module so that its ``@register`` decorator runs."""

from baselines import sasrec  # noqa: F401
