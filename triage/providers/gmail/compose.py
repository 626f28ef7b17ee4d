"""The RFC 5322 messages the Gmail provider writes: replies and notes, as base64url `raw`.

Gmail files a message into a thread only when the request names the `threadId`,
the message cites one of the thread's messages (In-Reply-To / References) and
its subject matches; both builders do all three. A reply carries our own
Message-ID, made before sending, which is what the sent-reply lookup finds.
"""

from __future__ import annotations

import base64
import email.utils
import uuid
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP

from triage.domain import history
from triage.domain.model import Note, ThreadRef
from triage.providers.base import OutgoingReply
from triage.text.mailtext import header_safe

NOTE_SUBJECT = "triage note"


def reply_raw(reply: OutgoingReply, at: datetime) -> str:
    """The reply as Gmail's `raw` (headers already made safe by the caller; one that is not
    raises ValueError rather than be sent)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = email.utils.formataddr((reply.from_name, reply.from_email))
    msg["To"] = ", ".join(reply.to)
    if reply.cc:
        msg["Cc"] = ", ".join(reply.cc)
    msg["Subject"] = reply.subject
    _thread_headers(msg, reply.in_reply_to, reply.references)
    return _finish(msg, reply.message_id, reply.body, at)


def note_raw(thread: ThreadRef, note: Note, mailbox: str, at: datetime) -> str:
    """A note message: from and to the team mailbox, citing the thread so it joins it."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = email.utils.formataddr(("triage", mailbox))
    msg["To"] = mailbox
    refs = [header_safe(r).strip("<>") for r in thread.references if header_safe(r).strip("<>")]
    subject = header_safe(thread.subject)  # the client's text: it must not add a header line
    msg["Subject"] = _re(subject) if refs and subject else NOTE_SUBJECT
    _thread_headers(msg, refs[-1] if refs else "", refs)
    domain = mailbox.rpartition("@")[2] or "triage.invalid"
    return _finish(msg, f"{uuid.uuid4().hex}.note@{domain}", history.encode(note), at)


def _re(subject: str) -> str:
    return subject if subject[:3].casefold() == "re:" else f"Re: {subject}"


def _thread_headers(msg: EmailMessage, in_reply_to: str, references: Sequence[str]) -> None:
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to.strip('<>')}>"
    refs = [r.strip("<>") for r in references if r.strip("<>")]
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)


def _finish(msg: EmailMessage, message_id: str, body: str, at: datetime) -> str:
    msg["Message-ID"] = f"<{message_id.strip('<>')}>"
    msg["Date"] = email.utils.format_datetime(at)
    msg.set_content(body, charset="utf-8")
    return base64.urlsafe_b64encode(msg.as_bytes()).decode("ascii")
