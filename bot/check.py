"""``gpurent check``: the configuration, every Docker host and the GPUs each offers, in words."""

from __future__ import annotations

from bot.config import Config, ConfigError
from bot.ports import RuntimeFaultError
from docker_ops.runtime import DockerRuntime


async def check_config(config: Config) -> tuple[list[str], bool]:
    lines = [f"config {config.path}: ok ({len(config.hosts)} host(s), "
             f"{len(config.images)} image(s), GPU counts offered: "
             f"{', '.join(map(str, config.prices.gpu_counts()))})"]
    ok = True
    try:
        config.bot_token()
        lines.append(f"bot token: found ({config.telegram.token_env or 'token_file'})")
    except ConfigError as exc:
        lines.append(f"bot token: MISSING: {exc}")
        ok = False
    if not config.telegram.admins:
        lines.append("admins: NONE: nobody can approve requests (telegram.admins)")
        ok = False
    runtime = DockerRuntime(config.hosts)
    try:
        for host in config.hosts:
            line, host_ok = await _check_host(runtime, host.name, host.docker_url)
            lines.append(line)
            ok = ok and host_ok
    finally:
        runtime.close()
    lines.append("result: OK" if ok else "result: PROBLEMS FOUND")
    return lines, ok


async def _check_host(runtime: DockerRuntime, name: str, url: str) -> tuple[str, bool]:
    try:
        info = await runtime.info(name)
    except RuntimeFaultError as fault:
        return f"host {name} ({url}): UNREACHABLE: {fault.message}", False
    try:
        gpus = await runtime.gpus(name)
    except RuntimeFaultError as fault:
        return f"host {name}: Docker {info.server_version}, GPUs: PROBLEM: {fault.message}", False
    if not gpus:
        return f"host {name}: Docker {info.server_version}, GPUs: NONE FOUND", False
    listed = ", ".join(f"{i}{' ' + model if model else ''}" for i, model, _ in gpus)
    labels = ", ".join(f"{k}={v}" for k, v in sorted(info.labels.items()))
    extra = f", labels {labels}" if labels else ""
    return (f"host {name}: Docker {info.server_version}, {len(gpus)} GPU(s): {listed}"
            f"{extra}"), True
