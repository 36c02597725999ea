"""Error alerts to the admins: short, masked, at most once per kind per window, and few.

Any Telegram user who finds a crashing input can repeat it; without a gate every repetition
would reach every admin. The same signature (exception type and the line that raised it) is
sent once per window, and at most ``burst`` alerts of any kind go out per window.
"""

from __future__ import annotations

import traceback
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.logsafe import describe

ALERT_WINDOW = timedelta(minutes=10)
ALERT_BURST = 5
_ALERT_TEXT_LIMIT = 300
_MAX_SIGNATURES = 200


def signature(error: BaseException | None) -> str:
    """What makes two errors "the same": their type and where they were raised."""
    if error is None:
        return "None"
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(error).__name__}@{where}"


def alert_text(error: BaseException | None) -> str:
    """The alert's body: type and masked, capped message; never a traceback or a secret."""
    return describe(error, _ALERT_TEXT_LIMIT)


@dataclass
class AlertGate:
    window: timedelta = ALERT_WINDOW
    burst: int = ALERT_BURST
    last_sent: dict[str, datetime] = field(default_factory=dict)
    recent: deque[datetime] = field(default_factory=deque)
    suppressed: int = 0

    def allow(self, error: BaseException | None, now: datetime) -> bool:
        """True when this error should be sent now; records it if so."""
        while self.recent and now - self.recent[0] >= self.window:
            self.recent.popleft()
        key = signature(error)
        if len(self.last_sent) > _MAX_SIGNATURES:  # forget the expired ones
            self.last_sent = {k: t for k, t in self.last_sent.items() if now - t < self.window}
        seen = self.last_sent.get(key)
        if (seen is not None and now - seen < self.window) or len(self.recent) >= self.burst:
            self.suppressed += 1
            return False
        self.last_sent[key] = now
        self.recent.append(now)
        return True
