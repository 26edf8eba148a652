"""requests, for calls to the partner and its callbacks.

The zips leave out requests' optional charset guessing (no response text is ever decoded here),
so the warning requests gives about its absence is expected and silenced.
"""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Unable to find acceptable character detection")
    import requests

__all__ = ["requests"]
