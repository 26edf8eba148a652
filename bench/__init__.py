"""`make bench`: measure the service and write BENCHMARKS.md (a tool, not a test).

Four parts: cold start per handler (coldstart), the deployment artifact (package), the cost of an
execution (inproc) and local speed against bare moto, with the IAM check on and off (latency,
bare). Every figure is a median (or a percentile) over repeated runs, next to a reference measured
in the same run, because the machine is shared and noisy. Targets read "met" / "missed"; nothing
here fails on a missed target. Heavy measurements run in their own processes, so this package
must stay cheap to import: no boto3, moto or Powertools at module level.
"""
