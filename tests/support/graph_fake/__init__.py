"""An in-repo, stateful fake of the Microsoft Graph and sign-in endpoints triage calls.

Built from Microsoft's documentation only (it has never been compared with a live
tenant): `server` (the fake, its httpx transport and its HTTP server), `mail_api`
(the mail endpoints), `delta` (delta queries), `odata` (queries and rendering),
`identity` (users, tokens, the v2.0 sign-in endpoints), `store` (mailboxes).
"""

from tests.support.graph_fake.mail_api import SentRecord
from tests.support.graph_fake.server import CLIENT_ID, GraphFake
from tests.support.graph_fake.store import FakeMailbox, FakeMessage

__all__ = ["CLIENT_ID", "FakeMailbox", "FakeMessage", "GraphFake", "SentRecord"]
