"""Powertools logger and metrics shared by every function (one of each per container).

Tracing is Lambda's own (`provider.tracing.lambda` in serverless.yml): it needs no SDK in the zip.
"""

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
