"""Moving data: `sync` (provider -> cache -> live view), `live` (the conversations in
memory, sorted, with optimistic changes), `outbox` (drafts, replies sent exactly
once, queued work), `actions` (escalate, reassign, acknowledge), `threads` (a
conversation's messages for the thread view)."""
