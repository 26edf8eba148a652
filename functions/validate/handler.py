from functions.common.observability import logger, tracer
from functions.validate.logic import validate_numbers


@logger.inject_lambda_context(correlation_id_path="execution")
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    numbers = validate_numbers(event.get("input"))
    logger.info("input valid")
    return numbers
