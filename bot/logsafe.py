"""Secrets never reach the logs: a filter that masks the bot token in every log record.

Libraries log URLs that carry the token (PTB's debug line with the Bot API URL, httpx's
request lines); masking at the handlers catches them all, whatever the level."""

from __future__ import annotations

import logging

MASK = "<bot-token>"


class RedactFilter(logging.Filter):
    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = message
        for secret in self.secrets:
            masked = masked.replace(secret, MASK)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def redact_everywhere(*secrets: str) -> None:
    """Mask ``secrets`` in every record that reaches a root handler (and the token's secret
    part alone too, should a library log it without the bot id)."""
    parts = [p for s in secrets for p in (s, s.partition(":")[2]) if p]
    redactor = RedactFilter(*parts)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
