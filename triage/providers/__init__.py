"""Mail providers: the JMAP client, the in-process JMAP server and the demo mailbox."""
