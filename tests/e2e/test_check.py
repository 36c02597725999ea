"""`gpurent check` on the rig's config: both engines reached and their GPUs listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.rig.rig import Rig

pytestmark = [pytest.mark.rig]


def write_config(path: Path, rig: Rig) -> Path:
    hosts = "".join(
        f'[[hosts]]\nname = "{e.name}"\ndocker_url = "{e.docker_url}"\n'
        f'public_address = "{e.address}"\ngpus = ["0", "1"]\n\n' for e in rig.engines)
    path.write_text('[telegram]\ntoken_env = "GPURENT_CHECK_TOKEN"\nadmins = [1]\n\n' + hosts,
                    encoding="utf-8")
    return path


def test_check_lists_both_engines_and_their_gpus(clean_rig: Rig, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GPURENT_CHECK_TOKEN", "1:abc")
    assert main(["check", "--config", str(write_config(tmp_path / "lab.toml", clean_rig))]) == 0
    out = capsys.readouterr().out
    assert "host HPC1: Docker 20.10" in out and "host HPC2: Docker 20.10" in out
    assert out.count("2 GPU(s): 0, 1") == 2
    assert "gpurent.rig=HPC1" in out and "gpurent.rig=HPC2" in out
    assert "1:abc" not in out  # the token is never printed
    assert out.strip().endswith("result: OK")


def test_check_fails_in_plain_words_when_a_host_is_down(clean_rig: Rig, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GPURENT_CHECK_TOKEN", "1:abc")
    clean_rig.engine("HPC2").stop_daemon()
    assert main(["check", "--config", str(write_config(tmp_path / "lab.toml", clean_rig))]) == 1
    out = capsys.readouterr().out
    assert "host HPC2" in out and "UNREACHABLE" in out
    assert "Traceback" not in out


def test_check_reports_a_bad_config_file(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[hosts]]\nname = "A"\nport_range = [70000, 70001]\n', encoding="utf-8")
    assert main(["check", "--config", str(bad)]) == 2
    assert "hosts[0].port_range: 70000 is not a port" in capsys.readouterr().err
