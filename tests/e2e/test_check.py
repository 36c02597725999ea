"""`gpurent check` on the rig's config: both engines reached, their GPUs listed, the catalogue
images found, and a rental's container tried for real; what a host refuses is named with the
config key that changes it. Exit status: 0 all good, 1 problems found, 2 bad config."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from bot.cli import main
from tests.rig.config import TEST_IMAGE_REFS
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig]

HEAD = '[telegram]\ntoken_env = "GPURENT_CHECK_TOKEN"\nadmins = [1]\n\n'
MISSING_REF = "nvcr.io/nvidia/tensorflow:20.12-tf1-py3"


def memlock_granted() -> str:
    """What the rig's daemons can grant: a sandbox without CAP_SYS_RESOURCE caps memlock."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    return '"unlimited"' if hard == resource.RLIM_INFINITY else str(hard)


def images(refs: tuple[str, ...]) -> str:
    return "".join(f'[[images]]\nkey = "i{n}"\nref = "{ref}"\n\n' for n, ref in enumerate(refs))


def write_config(path: Path, rig: Rig, memlock: str | None = None,
                 refs: tuple[str, ...] = TEST_IMAGE_REFS) -> Path:
    hosts = "".join(
        f'[[hosts]]\nname = "{e.name}"\ndocker_url = "{e.docker_url}"\n'
        f'public_address = "{e.address}"\ngpus = ["0", "1"]\n'
        f'workspace_root = "{e.workspace_root}"\nmemlock = {memlock or memlock_granted()}\n'
        f'memory_per_gpu = "1g"\ncpus_per_gpu = 1\nshm_size = "64m"\n\n' for e in rig.engines)
    path.write_text(HEAD + hosts + images(refs), encoding="utf-8")
    return path


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", "--config", str(path)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out + captured.err


def trial_containers_left(rig: Rig) -> list[str]:
    left = []
    for engine in rig.engines:
        client = engine.client()
        try:
            left += [c.name for c in client.containers.list(
                all=True, filters={"label": "gpurent.check"})]
        finally:
            client.close()
    return left


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPURENT_CHECK_TOKEN", "1:abc")


def test_check_tries_a_real_rental_container_on_both_engines(
        clean_rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(write_config(tmp_path / "lab.toml", clean_rig), capsys)
    assert code == 0, out
    assert "host HPC1: Docker 20.10" in out and "host HPC2: Docker 20.10" in out
    assert out.count("2 GPU(s): 0, 1") == 2
    assert "gpurent.rig=HPC1" in out and "gpurent.rig=HPC2" in out
    assert out.count("images: all 3 catalogue image(s) present") == 2
    assert out.count("rental spec: OK (a container started and removed: GPUs 0, 1") == 2
    assert "1:abc" not in out  # the token is never printed
    assert out.strip().endswith("result: OK")
    assert trial_containers_left(clean_rig) == []


def test_a_failing_gpu_hook_is_named_with_the_key_and_the_other_host_stays_ok(
        clean_rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean_rig.engine("HPC1").fail_gpu_hook(True)
    code, out = check(write_config(tmp_path / "lab.toml", clean_rig), capsys)
    assert code == 1
    [refusal] = [line for line in out.splitlines() if "REFUSED" in line]
    assert refusal.startswith("  rental spec: REFUSED: the GPU device request: ")
    assert "failed to attach the GPUs" in refusal and "fix hosts[0].gpus:" in refusal
    assert out.count("rental spec: OK") == 1  # HPC2
    assert out.strip().endswith("result: PROBLEMS FOUND")
    assert trial_containers_left(clean_rig) == []


def test_a_memlock_the_daemon_cannot_grant_is_named_with_the_key(
        clean_rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if memlock_granted() == '"unlimited"':
        pytest.skip("this machine's daemons can grant an unlimited memlock")
    code, out = check(write_config(tmp_path / "lab.toml", clean_rig, '"unlimited"'), capsys)
    assert code == 1
    refusals = [line for line in out.splitlines() if "REFUSED" in line]
    assert len(refusals) == 2 and all("the memlock ulimit" in line for line in refusals)
    assert "fix hosts[0].memlock:" in refusals[0] and "fix hosts[1].memlock:" in refusals[1]


def test_a_catalogue_image_missing_on_the_hosts_is_reported(
        clean_rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "lab.toml", clean_rig, refs=(*TEST_IMAGE_REFS, MISSING_REF))
    code, out = check(config, capsys)
    assert code == 1
    assert out.count("images: MISSING on HPC") == 2 and f"i3 ({MISSING_REF})" in out
    assert out.count("rental spec: OK") == 2  # tried with an image that is there


def test_check_fails_in_plain_words_when_a_host_is_down(
        clean_rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean_rig.engine("HPC2").stop_daemon()
    code, out = check(write_config(tmp_path / "lab.toml", clean_rig), capsys)
    assert code == 1
    [line] = [line for line in out.splitlines() if "host HPC2" in line]
    assert "UNREACHABLE: nothing answers as Docker at hosts[1].docker_url = 'unix://" in line


def test_missing_tls_files_are_named_by_their_keys(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate")
    config = tmp_path / "lab.toml"
    config.write_text(HEAD + f'[[hosts]]\nname = "far"\ndocker_url = "tcp://127.0.0.1:9"\n'
                      f'tls_ca = "{ca}"\ntls_cert = "{tmp_path}/cert.pem"\n'
                      f'tls_key = "{tmp_path}/key.pem"\n', encoding="utf-8")
    code, out = check(config, capsys)
    assert code == 1
    assert f"hosts[0].tls_cert = '{tmp_path}/cert.pem': no such file" in out
    assert "hosts[0].tls_key" in out and "hosts[0].tls_ca" not in out


def test_plain_tcp_is_a_bad_config_unless_allowed_and_then_unreachable_is_plain(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "lab.toml"
    host = '[[hosts]]\nname = "far"\ndocker_url = "tcp://127.0.0.1:9"\n'
    config.write_text(HEAD + host, encoding="utf-8")
    code, out = check(config, capsys)
    assert code == 2 and "hosts[0].docker_url" in out and "insecure_tcp = true" in out
    config.write_text(HEAD + host + "insecure_tcp = true\n", encoding="utf-8")
    code, out = check(config, capsys)
    assert code == 1
    assert "nothing answers as Docker at hosts[0].docker_url = 'tcp://127.0.0.1:9'" in out


def test_check_reports_a_bad_config_file(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[hosts]]\nname = "A"\nport_range = [70000, 70001]\n', encoding="utf-8")
    assert main(["check", "--config", str(bad)]) == 2
    assert "hosts[0].port_range: 70000 is not a port" in capsys.readouterr().err


def test_a_workspace_helper_image_missing_on_the_hosts_is_reported(
        clean_rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "lab.toml", clean_rig)
    absent = f"docker.io/library/busybox@sha256:{'0' * 64}"
    config.write_text(config.read_text() + f'[lifecycle]\nhelper_image = "{absent}"\n')
    code, out = check(config, capsys)
    assert code == 1 and out.count("helper image: MISSING on HPC") == 2, out
    assert "helper_image" in out
