"""triage: answer client email before each client's regional deadline."""

__version__ = "0.1.0"
