from functions.common.observability import logger
from functions.validate.logic import validate_numbers


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict, context: object) -> dict:
    numbers = validate_numbers(event.get("input"))
    logger.info("input valid")
    return numbers
