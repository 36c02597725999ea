"""The admins' /hosts: each host (answering or not, its Docker version, free GPUs) and each GPU
(model, memory used/total, utilization and temperature now, who holds it until when, idle for
how long) as a compact monospace table, and a PNG chart of each GPU's utilization over the
last 24 hours.

Live numbers come from the runtime (one ``gpu_usage`` call per host); history from the usage
samples. The chart is drawn by matplotlib's Agg backend in a worker thread, imported only when
drawn so start-up stays fast."""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import auth
from bot.i18n import esc, t
from bot.ports import GpuReading, RuntimeFaultError
from bot.services import Services
from bot.usecases import schedule as sch
from models import host_charts, hosts, queries, rentals
from models.tables import Rental, User

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
CHART_WIDTH, HOST_HEIGHT, DPI = 800, 260, 100  # pixels: readable on a phone
GIB = 1 << 30
IDLE_AFTER = timedelta(minutes=15)  # quieter than this is not idle yet


@dataclass(frozen=True)
class HostsReport:
    text: str
    chart: bytes  # PNG


@dataclass(frozen=True)
class Live:
    version: str | None  # None: the engine did not answer
    readings: dict[str, GpuReading]


async def report(services: Services, admin: User | None, now: datetime) -> HostsReport:
    admin = auth.require_admin(services.config, admin)
    lang = admin.language
    uses = hosts.usage()
    live = {u.host.name: await _live(services, u.host.name) for u in uses}
    seen = History(host_charts.gpu_models(), host_charts.last_busy(now - WINDOW, now),
                   host_charts.last_released(), now)
    blocks = [t(lang, "hosts_title")]
    for use in uses:
        name = use.host.name
        blocks.append(_head(lang, use, live[name]))
        rows = [_row(services, name, gpu, use.held.get(gpu), live[name], seen)
                for gpu in use.gpus]
        blocks.append("<pre>" + esc(_table(rows)) + "</pre>")
    blocks.append(t(lang, "hosts_queue", n=len(rentals.queued())))
    series = host_charts.util_series(now - WINDOW, now)
    layout = [(u.host.name, list(u.gpus)) for u in uses]
    png = await asyncio.to_thread(draw_chart, series, layout, now - WINDOW, now)
    return HostsReport("\n".join(blocks), png)


async def _live(services: Services, host: str) -> Live:
    try:
        version = await services.runtime.engine_version(host)
    except RuntimeFaultError as fault:
        logger.info("/hosts: %s does not answer: %s", host, fault.message)
        return Live(None, {})
    try:
        readings = {r.gpu_index: r for r in await services.runtime.gpu_usage(host)}
    except RuntimeFaultError as fault:
        logger.info("/hosts: no GPU readings from %s: %s", host, fault.message)
        readings = {}
    return Live(version, readings)


def _head(lang: str, use: hosts.HostUse, live: Live) -> str:
    free = len(use.gpus) - len(use.held)
    if live.version is None:
        status = t(lang, "hosts_down", error=esc(use.host.last_error[:100] or "—"))
    else:
        status = t(lang, "hosts_up_version", version=esc(live.version))
    return t(lang, "hosts_head", name=esc(use.host.name), status=status, free=free,
             total=len(use.gpus))


@dataclass(frozen=True)
class History:
    """What the samples say about every GPU: model and memory, last busy, last let go."""

    models: dict[tuple[str, str], tuple[str, int]]
    busy: dict[tuple[str, str], datetime]
    freed: dict[tuple[str, str], datetime]
    now: datetime

    def idle(self, key: tuple[str, str], holder: Rental | None) -> str:
        """How long the GPU has done nothing: since it was last busy (held) or let go (free);
        "-" while it works or when nothing is known."""
        since = self.freed.get(key) if holder is None else (
            self.busy.get(key) or queries.from_db(holder.started_at))
        if since is None or self.now - since < IDLE_AFTER:
            return "-"
        return sch.span_text("en", self.now - since)


def _row(services: Services, host: str, gpu: str, holder: Rental | None, live: Live,
         seen: History) -> list[str]:
    model, total = seen.models.get((host, gpu), ("?", 0))
    reading = live.readings.get(gpu)
    known = reading is not None and reading.memory_total > 0
    used = f"{reading.memory_used / GIB:.0f}" if reading is not None and known else "-"
    total_gib = (reading.memory_total if reading is not None and known else total) / GIB
    util = "-" if reading is None or reading.utilization is None else f"{reading.utilization}%"
    temp = "-" if reading is None or reading.temperature is None else f"{reading.temperature}C"
    who = "free"
    if holder is not None:
        ends = queries.from_db(holder.expires_at)
        end = sch.lab_time(services, ends)[-5:] if ends else "?"
        who = f"{holder.ref} {holder.user.first_name[:8]} >{end}"
    return [gpu, model.replace("NVIDIA ", "")[:10], f"{used}/{total_gib:.0f}G", util, temp, who,
            seen.idle((host, gpu), holder)]


def _table(rows: list[list[str]]) -> str:
    head = ["#", "model", "mem", "use", "temp", "holder", "idle"]
    cells = [head, *rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    return "\n".join(" ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in cells)


def draw_chart(series: host_charts.Series, layout: list[tuple[str, list[str]]],
               start: datetime, now: datetime) -> bytes:
    """One panel per host, one line per GPU (0-100 % over the window); a PNG of
    ``CHART_WIDTH`` by ``HOST_HEIGHT`` pixels per host."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    panels = max(1, len(layout))
    fig = Figure(figsize=(CHART_WIDTH / DPI, HOST_HEIGHT * panels / DPI), dpi=DPI)
    axes = fig.subplots(panels, 1, squeeze=False)[:, 0]
    hours = WINDOW.total_seconds() / 3600
    for ax, (host, gpus) in zip(axes, layout or [("-", [])], strict=True):
        for gpu in gpus:
            points = series.get((host, gpu), [])
            xs = [-(now - at).total_seconds() / 3600 for at, _ in points]
            ax.plot(xs, [u for _, u in points], marker=".", linewidth=1.2, label=f"GPU {gpu}")
        ax.set_xlim(-hours, 0)
        ax.set_ylim(0, 100)
        ax.set_title(f"{host}: GPU utilization, last 24 h", fontsize=9)
        ax.set_ylabel("%", fontsize=8)
        ax.grid(alpha=0.3)
        if gpus:
            ax.legend(fontsize=7, loc="upper left", ncol=min(len(gpus), 8))
    axes[-1].set_xlabel("hours ago", fontsize=8)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
