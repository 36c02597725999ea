"""Once a day, in lab time: a summary to each student with a running rental, and a digest
for the admins. Each is claimed per day, so a late start still sends today's, once."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta

from billing import ledger
from billing.money import format_money
from bot.i18n import esc, t
from bot.services import Services
from bot.usecases import admins, unpaid, usage
from bot.usecases import schedule as sch
from bot.usecases.users import display_name
from models import hosts, notices, queries, rentals, views
from models.states import State
from models.tables import Rental, User

DAY = timedelta(days=1)
FAILURE_KINDS = ("failed", "requeued", "recovered", "stop_failed", "remove_failed",
                 "workspace_failed", "revive_failed")
MAX_LINES = 10


def _today_after(services: Services, now: datetime, at: time) -> str | None:
    """Today's date in lab time once ``at`` has passed, else None."""
    local = now.astimezone(services.config.tz)
    return local.date().isoformat() if local.time() >= at else None


async def daily_summaries(services: Services, now: datetime) -> int:
    cfg = services.config.lifecycle
    day = _today_after(services, now, cfg.summary_time) if cfg.daily_summary else None
    if day is None:
        return 0
    by_user: dict[int, list[Rental]] = defaultdict(list)
    for rental in usage.active_rentals():
        by_user[rental.user_id].append(rental)  # type: ignore[attr-defined]
    sent = 0
    done = notices.claimed_among(f"sum:{user_id}:{day}" for user_id in by_user)  # one query
    for user_id, theirs in by_user.items():
        if f"sum:{user_id}:{day}" not in done and notices.claim(f"sum:{user_id}:{day}", now):
            user = queries.user_by_id(user_id)
            await services.notifier.send(user.telegram_id, summary_text(services, user,
                                                                        theirs, now))
            sent += 1
    return sent


def summary_text(services: Services, user: User, rentals: list[Rental], now: datetime) -> str:
    lang = user.language
    costs = ledger.statement(user).rental_costs
    lines = [t(lang, "life_summary_title")]
    for rental in rentals:
        util = usage.average_util(rental, now - DAY)
        expires = queries.from_db(rental.expires_at) or now
        lines.append(t(lang, "life_summary_line", ref=rental.ref, gpus=rental.gpus,
                       host=esc(sch.host_name(rental)),
                       hours=f"{usage.gpu_hours(rental, now - DAY, now):.1f}",
                       util="—" if util is None else f"{util:.0f}%",
                       left=sch.span_text(lang, expires - now),
                       until=sch.lab_time(services, expires),
                       cost=format_money(costs.get(rental.id, 0))))
    return "\n\n".join(lines)


async def admin_digest(services: Services, now: datetime) -> int:
    cfg = services.config.lifecycle
    day = _today_after(services, now, cfg.digest_time) if cfg.admin_digest else None
    targets = admins.targets(services)
    if day is None or not targets or not notices.claim(f"digest:{day}", now):
        return 0
    for chat_id, lang in targets:
        await services.notifier.send(chat_id, digest_text(services, lang, now))
    return 1


def digest_text(services: Services, lang: str, now: datetime) -> str:
    lines = [t(lang, "life_digest_title", day=sch.lab_time(services, now)[:10])]
    lines += _hosts(lang)
    pending = len(rentals.in_states([State.PENDING]))
    queue = [r.ref for r in rentals.queued()]
    lines.append(t(lang, "life_digest_pending", n=pending))
    lines.append(t(lang, "life_digest_queue", n=len(queue), refs=", ".join(queue) or "—"))
    idle = usage.idle_rentals()
    lines.append(t(lang, "life_digest_idle", n=len(idle)))
    lines += [t(lang, "life_digest_idle_line", ref=r.ref, who=esc(display_name(r.user)),
                gpus=r.gpus, host=esc(sch.host_name(r))) for r in idle[:MAX_LINES]]
    lines.append(t(lang, "life_digest_unpaid", amount=format_money(ledger.unpaid_total())))
    lines += unpaid.digest_lines(lang, MAX_LINES)
    lines += _failures(lang, now)
    return "\n".join(lines)


def _hosts(lang: str) -> list[str]:
    lines = []
    for use in hosts.usage():
        key = "life_digest_host" if use.host.reachable else "life_digest_host_down"
        lines.append(t(lang, key, name=esc(use.host.name), used=len(use.held),
                       total=len(use.gpus)))
    return lines


def _failures(lang: str, now: datetime) -> list[str]:
    rows = views.audit_since(now - DAY, FAILURE_KINDS)
    lines = [t(lang, "life_digest_failures", n=len(rows))]
    for row in rows[:MAX_LINES]:
        ref = row.rental.ref if row.rental is not None else "—"
        lines.append(t(lang, "life_digest_failure_line", ref=ref, kind=row.kind,
                       detail=esc(row.detail[:120])))
    return lines
