"""Powertools logger, tracer and metrics shared by every function (one of each per container)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
