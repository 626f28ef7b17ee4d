"""One Screen per module: queue, escalations, help (thread/reply/escalate/reassign beside)."""
