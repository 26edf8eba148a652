"""A third-party-style doubling API: no AWS credentials, answers through a callback URL."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths

from functions.common.http import add_json_error_answers, json_response, parse_json_object
from functions.common.observability import logger
from functions.common.settings import Settings
from functions.double.logic import double_and_call_back

app = APIGatewayRestResolver()
add_json_error_answers(app)


@app.post("/double")
def double():
    request = parse_json_object(app)
    delivered = double_and_call_back(request, Settings.from_env())
    return json_response(202, {"message": "Accepted: the result is sent to the callback URL.", "delivered": delivered})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
