"""Finalize: the whole story of an approved execution, as its output."""

from functions.common.observability import logger


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict, context: object) -> dict:
    calculation, approval = event["calculation"], event["approval"]
    story = {
        "x": event["input"]["x"],
        "y": event["input"]["y"],
        "sum": calculation["sum"],
        "doubled": calculation["doubled"],
        "decision": approval["decision"],
        "comment": approval.get("comment", ""),
        "decidedAt": approval["decidedAt"],
        "approver": approval.get("approver", ""),
        "policy": approval.get("policy", ""),
        "votes": approval.get("votes", []),
    }
    logger.info("approved", extra={"decision": story["decision"]})
    return story
