"""Named errors.

The class name of a workflow error is its contract with the state machine: Lambda reports it
as the error type, and the ASL's Retry/Catch match it by that exact name.
"""


class WorkflowError(Exception):
    """An error the state machine routes by class name."""


class InvalidInput(WorkflowError):
    """x or y is not an integer within the safe range."""


class DoublingApiUnavailable(WorkflowError):
    """The doubling API could not be reached or refused the request; retried by the ASL."""


class DoublingFailed(WorkflowError):
    """The doubling API called back with an error; retried by the ASL."""


class CalculationFailed(WorkflowError):
    """The calculation could not be completed after retries."""


class NotificationFailed(WorkflowError):
    """The approval email could not be sent."""


class ApprovalRejected(WorkflowError):
    """A person rejected the request."""


class ApprovalTimedOut(WorkflowError):
    """Nobody decided before the deadline."""


class ApprovalStopped(WorkflowError):
    """The approval machine's execution was stopped on its own, before a decision."""


class InvalidApprovalRequest(WorkflowError):
    """An approval machine's input breaks a rule; the message names the field and the rule."""


class RequestRefused(Exception):
    """A request this service refuses; the message is safe to show to a person.

    `subject` is what the refusal is about (an approval request), for answers that show it.
    """

    status_code = 400

    def __init__(self, message: str, subject: object = None) -> None:
        super().__init__(message)
        self.subject = subject


class MalformedRequest(RequestRefused):
    status_code = 400


class InvalidLink(MalformedRequest):
    """An id that is missing or not of the shape we issue."""


class Forbidden(RequestRefused):
    status_code = 403


class NotFound(RequestRefused):
    status_code = 404


class AlreadyResolved(RequestRefused):
    status_code = 409


class Expired(RequestRefused):
    status_code = 410
