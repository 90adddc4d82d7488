"""``python -m lares_bench`` = the ``lares-bench`` command (for machines without the script)."""

from lares_bench.cli import app

app(prog_name="lares-bench")
