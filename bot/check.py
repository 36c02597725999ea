"""``gpurent check``: the configuration, every Docker host, the GPUs each offers, the catalogue
images it has, and a rental's container tried for real, in words that name the key to change.

"Docker answers" is not "rentals work": a daemon that cannot grant ``memlock = unlimited`` or
whose GPU hook fails answers ``info`` fine and then refuses every rental. So each host starts
(and removes) a container built exactly as a rental's is, and when the host refuses it, tries
the parts one by one to say which part is refused and which config key changes it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace

from bot.config import Config, ConfigError, HostConfig, ImageConfig
from bot.ports import RunSpec, RuntimeFaultError
from bot.usecases.container_spec import Claim, run_spec
from docker_ops.runtime import DockerRuntime
from docker_ops.trial import PARTS
from models.tables import Rental, User

ALL = frozenset(PARTS)
Lines = tuple[list[str], bool]  # what to print, and whether all was well


@dataclass(frozen=True)
class Part:
    what: str
    key: str  # the [[hosts]] key that sets it; "" when gpurent has none
    fix: str


FIXES = {
    "gpus": Part("the GPU device request", "gpus", "list only GPUs the host has; the NVIDIA "
                 "Container Toolkit (nvidia-container-runtime-hook) and driver must work there"),
    "memlock": Part("the memlock ulimit", "memlock", "set a number of bytes the Docker daemon "
                    "may grant, or raise the daemon's own LimitMEMLOCK (systemd) to infinity"),
    "stack": Part("the 64 MiB stack ulimit", "", "raise the Docker daemon's own LimitSTACK "
                  "(systemd); gpurent always asks for 64 MiB, as NVIDIA recommends"),
    "shm": Part("the /dev/shm size", "shm_size", "set a size the host can give"),
    "memory": Part("the memory limit", "memory_per_gpu", "set a size the host has; the "
                   "memory cgroup must be enabled on the host"),
    "cpus": Part("the CPU limit", "cpus_per_gpu", "set what the host has; the CPU cgroup "
                 "must be enabled on the host"),
    "pids": Part("the process limit", "pids_limit", "the pids cgroup must be enabled on the "
                 "host (kernel 4.3 or later)"),
    "privileges": Part("no-new-privileges", "no_new_privileges", "set it to false only if "
                       "the host's Docker cannot apply it"),
    "workspace": Part("the workspace bind", "workspace_root", "name a directory the Docker "
                      "daemon can create and bind"),
}


def key(n: int, name: str) -> str:
    return f"hosts[{n}].{name}"


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
        for n, host in enumerate(config.hosts):
            host_lines, host_ok = await check_host(runtime, config, n, host)
            lines.extend(host_lines)
            ok = ok and host_ok
    finally:
        runtime.close()
    lines.append("result: OK" if ok else "result: PROBLEMS FOUND")
    return lines, ok


async def check_host(runtime: DockerRuntime, config: Config, n: int, host: HostConfig) -> Lines:
    unreadable = tls_files(n, host)
    if unreadable:
        return [f"host {host.name}: UNREACHABLE: {line}" for line in unreadable], False
    try:
        info = await runtime.info(host.name)
    except RuntimeFaultError as fault:
        return [f"host {host.name} ({host.docker_url}): UNREACHABLE: "
                f"{unreachable(n, host, fault)}"], False
    head = f"host {host.name}: Docker {info.server_version}"
    labels = ", ".join(f"{k}={v}" for k, v in sorted(info.labels.items()))
    try:
        found = await runtime.gpus(host.name)
    except RuntimeFaultError as fault:
        return [f"{head}, GPUs: PROBLEM: {fault.message} ({key(n, 'gpus')})"], False
    if not found:
        return [f"{head}, GPUs: NONE FOUND ({key(n, 'gpus')})"], False
    gpus = [g for g, _model, _mem in found]
    listed = ", ".join(f"{g}{' ' + model if model else ''}" for g, model, _ in found)
    lines = [f"{head}, {len(gpus)} GPU(s): {listed}{f', labels {labels}' if labels else ''}"]
    image_lines, image, images_ok = await check_images(runtime, config, host)
    helper_lines, helper_ok = await check_helper(runtime, config, host)
    spec_lines, spec_ok = await check_spec(runtime, n, host, gpus, image)
    return lines + image_lines + helper_lines + spec_lines, images_ok and spec_ok and helper_ok


def tls_files(n: int, host: HostConfig) -> list[str]:
    """TLS files the bot cannot read (the SDK would only say "invalid path")."""
    found = []
    for name in ("tls_ca", "tls_cert", "tls_key"):
        path = getattr(host, name)
        if path and not os.access(path, os.R_OK):
            why = "no such file" if not os.path.exists(path) else "not readable by the bot"
            found.append(f"{key(n, name)} = {path!r}: {why}")
    return found


def unreachable(n: int, host: HostConfig, fault: RuntimeFaultError) -> str:
    url = f"{key(n, 'docker_url')} = {host.docker_url!r}"
    if "TLS" in fault.message:
        return (f"the TLS handshake with {url} failed: check {key(n, 'tls_ca')} (the CA that "
                f"signed the daemon's certificate), {key(n, 'tls_cert')} and "
                f"{key(n, 'tls_key')} (a client certificate the daemon trusts)")
    if fault.kind == "unreachable":
        return (f"nothing answers as Docker at {url}: check the address, and that dockerd "
                "runs and listens there")
    return f"Docker at {url} failed: {fault.message}"


async def check_images(runtime: DockerRuntime, config: Config,
                       host: HostConfig) -> tuple[list[str], str | None, bool]:
    """A line on the catalogue images, the first one present (to try the spec with), and
    whether all are there."""
    present: list[ImageConfig] = []
    missing: list[ImageConfig] = []
    for image in config.images:
        try:
            found = await runtime.has_image(host.name, image.ref)
        except RuntimeFaultError as fault:
            return [f"  images: PROBLEM: {fault.message}"], None, False
        (present if found else missing).append(image)
    first = present[0].ref if present else None
    if not missing:
        return [f"  images: all {len(present)} catalogue image(s) present"], first, True
    names = ", ".join(f"{i.key} ({i.ref})" for i in missing)
    return [f"  images: MISSING on {host.name}: {names}: the first rental of each waits for "
            "a pull, which fails where the registry cannot be reached (pull it on the host, "
            "or drop it from [[images]])"], first, False


async def check_helper(runtime: DockerRuntime, config: Config, host: HostConfig) -> Lines:
    """The workspace helper image ([lifecycle] helper_image) must already be on the host: it is
    never pulled, and without it no workspace is deleted or archived."""
    image = config.lifecycle.helper_image
    if not image:
        first = config.images[0].ref
        return [f"  helper image: not set; workspaces are deleted with {first}, not pinned "
                "(set [lifecycle] helper_image = \"name@sha256:...\")"], True
    try:
        found = await runtime.has_image(host.name, image)
    except RuntimeFaultError as fault:
        return [f"  helper image: PROBLEM: {fault.message}"], False
    if found:
        return [f"  helper image: present ({image})"], True
    return [f"  helper image: MISSING on {host.name}: {image} ([lifecycle] helper_image): no "
            "workspace can be deleted or archived there until it is pulled on the host"], False


def trial_spec(host: HostConfig, gpus: list[str], image: str) -> RunSpec:
    """A rental's spec, built by the use cases' own ``run_spec`` from an unsaved rental.
    It binds the workspace root itself, so no student directory is left behind."""
    rental = Rental(id=0, image_ref=image, user=User(telegram_id=0))
    spec = run_spec(rental, Claim(host, tuple(gpus), {}), secrets.token_hex(8))
    return replace(spec, name=f"gpurent-check-{secrets.token_hex(4)}",
                   labels={"gpurent.check": host.name}, workspace_dir=host.workspace_root)


def described(spec: RunSpec) -> str:
    cpus = f"{spec.nano_cpus / 1e9:g}" if spec.nano_cpus else "the host's share"
    memory = spec.mem_limit or "the host's share"
    return (f"GPUs {', '.join(spec.gpu_ids)}, memlock "
            f"{'unlimited' if spec.memlock == -1 else spec.memlock}, shm "
            f"{spec.shm_size or 'default'}, memory {memory}, CPUs {cpus}, "
            f"workspace {spec.workspace_dir}")


async def check_spec(runtime: DockerRuntime, n: int, host: HostConfig, gpus: list[str],
                     image: str | None) -> Lines:
    if image is None:
        return ["  rental spec: NOT TRIED: no catalogue image on the host to try it with"], False
    spec = trial_spec(host, gpus, image)
    full = await _refusal(runtime, host.name, spec, frozenset())
    if full is None:
        return [f"  rental spec: OK (a container started and removed: {described(spec)})"], True
    bare = await _refusal(runtime, host.name, spec, ALL)
    if bare is not None:
        return [f"  rental spec: REFUSED: even a container of {image} without GPUs, limits or "
                f"a workspace does not start: {bare}"], False
    lines = []
    for part in PARTS:
        why = await _refusal(runtime, host.name, spec, ALL - {part})
        if why is not None:
            lines.append(f"  rental spec: REFUSED: {refused(n, part, why)}")
    return lines or [f"  rental spec: REFUSED as a whole, though each part alone starts: "
                     f"{full}"], False


def refused(n: int, part: str, why: str) -> str:
    fix = FIXES[part]
    where = f"fix {key(n, fix.key)}: " if fix.key else "fix on the host: "
    return f"{fix.what}: {why}; {where}{fix.fix}"


async def _refusal(runtime: DockerRuntime, host: str, spec: RunSpec,
                   without: frozenset[str]) -> str | None:
    """Why the host refuses ``spec`` minus ``without``; None when it starts."""
    try:
        await runtime.try_spec(host, spec, without)
    except RuntimeFaultError as fault:
        return fault.message
    return None
