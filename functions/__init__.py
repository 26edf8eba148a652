"""The service's Lambda functions. Every handler imports this package first."""

import gc
import os

# A cold start creates a few hundred thousand objects (modules, then boto3's service models) and
# each cyclic collection walks every one created so far: on Lambda, collect far less often
# (the first generation at 50,000 allocations instead of 700). BENCHMARKS.md measures the gain.
if os.environ.get("LAMBDA_TASK_ROOT"):
    gc.set_threshold(50_000, 20, 10)
