"""The bot's own image (the top-level Dockerfile), built without a registry and run as an admin
would run it: non-root with the Docker socket's group, config mounted read-only, SQLite on the
image's volume. It answers /start through the emulator (host networking: the emulator listens
on the test's 127.0.0.1) and reaches the engine whose socket it was given."""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from docker_ops.rentable import rentable_dockerfile
from tests.botemu import BotApiEmulator
from tests.e2e.botimage import RIG_PYTHON_IMAGE, build_bot_image, remove_images
from tests.e2e.harness import TOKEN
from tests.rig.engines import Engine
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig, pytest.mark.e2e]
ADMIN = 9001
CONFIG = "/etc/gpurent/gpurent.toml"


def write_config(into: Path, emu: BotApiEmulator, engine: Engine) -> Path:
    """HPC1 through the mounted socket; HPC9's socket is not there, so /hosts tells a host
    reached from one merely listed. The database is left at its default, on the volume."""
    into.mkdir(mode=0o755)
    (into / "gpurent.toml").write_text(
        f'[telegram]\ntoken_env = "GPURENT_BOT_TOKEN"\napi_base_url = "{emu.base_url}"\n'
        f'api_file_url = "{emu.base_file_url}"\nadmins = [{ADMIN}]\n\n'
        f'[[hosts]]\nname = "HPC1"\ndocker_url = "unix:///var/run/docker.sock"\n'
        f'public_address = "{engine.address}"\ngpus = ["0", "1"]\n\n'
        '[[hosts]]\nname = "HPC9"\ndocker_url = "unix:///nonexistent/docker.sock"\n'
        'gpus = ["0"]\n', encoding="utf-8")
    (into / "gpurent.toml").chmod(0o644)
    return into


@contextlib.contextmanager
def bot_container(client: docker.DockerClient, image: str, config_dir: Path,
                  engine: Engine) -> Iterator[docker.models.containers.Container]:
    container = client.containers.run(
        image, name="gpurent-ci-bot", detach=True, network_mode="host",
        environment={"GPURENT_BOT_TOKEN": TOKEN},
        group_add=[str(engine.socket.stat().st_gid)],
        volumes={str(config_dir): {"bind": "/etc/gpurent", "mode": "ro"},
                 str(engine.socket): {"bind": "/var/run/docker.sock", "mode": "rw"}})
    try:
        yield container
    except BaseException:
        print(container.logs(tail=200).decode(errors="replace"))  # in the failure's report
        raise
    finally:
        container.remove(force=True, v=True)


def run_in(container: docker.models.containers.Container, *argv: str) -> str:
    code, output = container.exec_run(list(argv))
    text = output.decode(errors="replace")
    assert code == 0, f"{argv}: exit {code}\n{text}"
    return text.strip()


async def test_the_built_image_answers_start_and_reaches_its_engine(
        clean_rig: Rig, emu: BotApiEmulator, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    engine = clean_rig.engine("HPC1")
    timings: dict[str, float] = {}
    with contextlib.closing(engine.client(timeout=600)) as client:
        try:
            image = build_bot_image(client, tmp_path, timings)
            config_dir = write_config(tmp_path / "etc", emu, engine)
            with bot_container(client, image, config_dir, engine) as bot:
                started = time.monotonic()
                await answers_and_sees_hpc1(emu)
                timings["run to /hosts"] = time.monotonic() - started
                assert run_in(bot, "id", "-u") == "10001"
                assert run_in(bot, "gpurent", "health", "--config", CONFIG).startswith("healthy")
                run_in(bot, "python3", "-c", "import paramiko, psycopg2, pynvml; "
                       "from docker_ops.rentable import template; template()")
                assert bot.attrs["Config"]["Healthcheck"]["Test"][1:3] == ["gpurent", "health"]
        finally:
            remove_images(client)
    with capsys.disabled():
        print("\nbot image: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    emu.assert_no_errors()


async def answers_and_sees_hpc1(emu: BotApiEmulator) -> None:
    student = emu.user(id=1301, first_name="Qi", language_code="en")
    await student.send("/start")
    await student.wait_message(contains="Hello Qi", timeout=60)
    admin = emu.user(id=ADMIN, first_name="Admin", language_code="en")
    await admin.send("/hosts")
    hosts = (await admin.wait_message(contains="HPC9", timeout=30)).content
    assert re.search(r"HPC1\W+up\b", hosts), hosts
    assert re.search(r"HPC9\W+UNREACHABLE", hosts), hosts


def test_the_rentable_template_builds_and_drops_baked_host_keys(clean_rig: Rig) -> None:
    """No network in a rig build: the base here has sshd, chpasswd and a jupyter-lab (and host
    keys baked in, as many images have), so the template's checks run, its installs are
    skipped, and the keys must go."""
    engine = clean_rig.engine("HPC2")
    keyed, tag = "gpurent-ci/keyed:test", "gpurent-ci/rentable:test"
    with contextlib.closing(engine.client(timeout=300)) as client:
        try:
            build_text(client, f"FROM {RIG_PYTHON_IMAGE}\nRUN ssh-keygen -A\n", keyed)
            build_text(client, rentable_dockerfile(keyed), tag)
            out = client.containers.run(tag, ["sh", "-c", "pwd; id -u; ls /etc/ssh"],
                                        remove=True).decode().split()
            assert out[:2] == ["/workspace", "0"]
            assert "sshd_config" in out and not [f for f in out if f.startswith("ssh_host_")]
        finally:
            for image in (tag, keyed):
                with contextlib.suppress(docker.errors.ImageNotFound):
                    client.images.remove(image, force=True)


def build_text(client: docker.DockerClient, dockerfile: str, tag: str) -> None:
    events = list(client.api.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag,
                                   rm=True, forcerm=True, decode=True))
    errors = [e["error"] for e in events if e.get("error")]
    assert not errors, "".join(str(e.get("stream", "")) for e in events) + str(errors)
