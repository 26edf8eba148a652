"""`make bench`: measure the service and write BENCHMARKS.md (a tool, not a test).

Every figure is a median (or a percentile) over repeated runs, next to a reference measured in
the same run, because the machine is shared and noisy. Targets are printed as "met" / "missed";
nothing here fails on a missed target.

Heavy measurements run in their own processes (``python -m bench.inproc``, ``python -m
bench.bare``, fresh interpreters for cold starts, ``python -m local``), so this package must stay
cheap to import: no boto3, moto or Powertools at module level.
"""
