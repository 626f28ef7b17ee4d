"""The console's dialogs: escalate (why), reassign (to whom, why, how far), confirm."""
