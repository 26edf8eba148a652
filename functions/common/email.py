"""The one place that sends email: an RFC 5322 message (text + HTML) through SES.

It mails SENDER_EMAIL's configured recipients only: RECIPIENT_EMAIL, the approvers and the escalation contact.
Each message says in two headers which execution it is about and what kind of email it is (request,
reminder, escalation, failure, ...): mail filters, the local outbox and the local console sort by them.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from functions.common.display import Message
from functions.common.errors import NotificationFailed
from functions.common.observability import logger
from functions.common.settings import Settings

KIND_HEADER = "X-Workflow-Email"
EXECUTION_HEADER = "X-Workflow-Execution"


@dataclass(frozen=True)
class Email:
    sender: str
    recipient: str
    subject: str
    text: str
    html: str
    kind: str = ""
    execution: str = ""

    @classmethod
    def compose(
        cls, settings: Settings, recipient: str, subject: str, message: Message, *, kind: str = "", execution: str = ""
    ) -> "Email":
        """A message from SENDER_EMAIL: its HTML and its text part say the same thing."""
        return cls(settings.sender_email, recipient, subject, message.text(), message.html(), kind, execution)


def build_message(email: Email) -> bytes:
    message = EmailMessage()
    message["From"] = email.sender
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=email.sender.rpartition("@")[2] or None)
    if email.kind:
        message[KIND_HEADER] = email.kind
    if email.execution:
        message[EXECUTION_HEADER] = email.execution
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message.as_bytes()


class Mailer:
    def __init__(self, ses: Any) -> None:
        self._ses = ses

    def send(self, email: Email) -> str:
        """Send one message; any refusal by SES becomes NotificationFailed with SES's reason."""
        if not email.sender or not email.recipient:
            raise NotificationFailed("SENDER_EMAIL and RECIPIENT_EMAIL must both be configured")
        try:
            answer = self._ses.send_raw_email(
                Source=email.sender,
                Destinations=[email.recipient],
                RawMessage={"Data": build_message(email)},
            )
        except Exception as error:  # noqa: BLE001 - every SES refusal means the same to the workflow
            reason = getattr(error, "response", {}).get("Error", {}).get("Message") or type(error).__name__
            logger.error("email not sent", extra={"subject": email.subject, "reason": reason})
            raise NotificationFailed(f"SES refused the message to {email.recipient}: {reason}") from None
        logger.info("email sent", extra={"subject": email.subject, "message_id": answer.get("MessageId")})
        return answer.get("MessageId", "")
