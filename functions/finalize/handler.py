"""Finalize: the whole story of an approved execution, as its output."""

from functions.common.callbacks.model import story_of
from functions.common.observability import logger


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict, context: object) -> dict:
    calculation, approval = event["calculation"], event["approval"]
    numbers = {"x": event["input"]["x"], "y": event["input"]["y"], "sum": calculation["sum"], "doubled": calculation["doubled"]}
    story = {**numbers, **story_of(approval)}
    logger.info("approved", extra={"decision": story["decision"]})
    return story
