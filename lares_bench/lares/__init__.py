"""LARES (arXiv 2505.16865): the recurrent model (model.py), depth samplers (depth.py), the SPT
loss (spt.py), the RPT stage (rpt.py) and the two-stage run (executor.py).

Nothing is imported here: ``baselines.models`` imports ``lares_bench.lares.model`` to register
the ``lares*`` models, and importing this package must not start that cycle."""
