"""The template that makes an NGC image rentable: one file, its base set per image."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from docker_ops.rentable import rentable_dockerfile, template


def test_the_base_image_is_the_one_asked_for() -> None:
    text = rentable_dockerfile("nvcr.io/nvidia/pytorch:23.10-py3")
    assert "ARG BASE=nvcr.io/nvidia/pytorch:23.10-py3\nFROM ${BASE}\n" in text
    changed = [(a, b) for a, b in zip(template().splitlines(), text.splitlines(), strict=True)
               if a != b]
    assert changed == [("ARG BASE=nvcr.io/nvidia/pytorch:20.12-py3",
                        "ARG BASE=nvcr.io/nvidia/pytorch:23.10-py3")]


@pytest.mark.parametrize("base", ["ubuntu:22.04\nRUN rm -rf /", "a b", "", "-x"])
def test_a_base_that_could_add_dockerfile_lines_is_refused(base: str) -> None:
    with pytest.raises(ValueError, match="not an image reference"):
        rentable_dockerfile(base)


def test_it_installs_only_sshd_chpasswd_and_jupyter_and_drops_baked_host_keys() -> None:
    text = template()
    installs = re.findall(r"(?:apt-get install -y (?:--reinstall )?--no-install-recommends|"
                          r"apk add --no-cache|"
                          r"dnf install -y|yum install -y|pip3 install --no-cache-dir"
                          r"(?: --break-system-packages)?) ([^;\\\n]+)", text)
    assert {i.strip() for i in installs} == {"openssh-server passwd", "openssh shadow",
                                             "python3-pip", "py3-pip", "jupyterlab"}
    assert "rm -f /etc/ssh/ssh_host_*;" in text
    assert "ssh-keygen" not in text  # keys made at build time would be shared by every rental


TUNA = "https://mirrors.tuna.tsinghua.edu.cn"
TUNA_PYPI = "https://pypi.tuna.tsinghua.edu.cn/simple"


def test_the_mirrors_are_baked_in_as_the_build_arguments_defaults() -> None:
    text = rentable_dockerfile("ubuntu:22.04", TUNA, TUNA_PYPI)
    assert f"\nARG APT_MIRROR={TUNA}\nARG PIP_INDEX={TUNA_PYPI}\n" in text
    changed = {b for a, b in zip(template().splitlines(), text.splitlines(), strict=True)
               if a != b}
    assert changed == {"ARG BASE=ubuntu:22.04", f"ARG APT_MIRROR={TUNA}",
                       f"ARG PIP_INDEX={TUNA_PYPI}"}


def test_without_mirrors_the_base_images_own_sources_are_used() -> None:
    text = rentable_dockerfile("ubuntu:22.04")
    assert "\nARG APT_MIRROR=\nARG PIP_INDEX=\n" in text
    # The mirrors are used only when set; the file stays usable with --build-arg by hand.
    assert 'if [ -n "$APT_MIRROR" ]' in text and 'if [ -n "$PIP_INDEX" ]' in text
    assert "trusted=yes" not in text and "AllowUnauthenticated" not in text


@pytest.mark.parametrize(("apt", "pip"), [
    ("https://mirror.example\nRUN rm -rf /", ""), ("https://m.example/debian", ""),
    ("ftp://m.example", ""), ("https://m.example#x", ""), ("$(id)", ""),
    ("", "https://p.example/simple; rm -rf /"), ("", "https://p.example/$HOME"),
    ("", "https://p.example/simple\nRUN x"), ("", "file:///etc/passwd"),
    ("", "https://p.example/'q'"),
])
def test_a_mirror_that_could_add_lines_or_shell_words_is_refused(apt: str, pip: str) -> None:
    with pytest.raises(ValueError, match=r"not an apt mirror|not a pip index"):
        rentable_dockerfile("ubuntu:22.04", apt, pip)


def sources_rewritten(text: str, mirror: str) -> str:
    """The template's own sed step run on ``text``, as the build runs it."""
    step = template().split('if [ -f "$f" ]; then \\\n', 1)[1].split('"$f"; \\', 1)[0]
    script = step.replace("\\\n", " ") + '"$1"'
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as out:
        out.write(text)
    try:
        subprocess.run(["sh", "-c", script, "sh", out.name], check=True,
                       env={"APT_MIRROR": mirror, "PATH": "/usr/bin:/bin"})
        return Path(out.name).read_text()
    finally:
        os.unlink(out.name)


def test_the_official_debian_and_ubuntu_hosts_become_the_mirror_paths_kept() -> None:
    one_line = ("deb http://deb.debian.org/debian bookworm main\n"
                "deb [signed-by=/k.gpg] https://security.debian.org/debian-security bookworm-"
                "security main\n"
                "deb http://cn.archive.ubuntu.com/ubuntu/ jammy main\n"
                "deb http://security.ubuntu.com/ubuntu/ jammy-security main\n"
                "deb http://ports.ubuntu.com/ubuntu-ports/ jammy main\n"
                "deb https://developer.download.nvidia.com/compute/cuda/repos/x86_64/ /\n")
    assert sources_rewritten(one_line, TUNA) == (
        f"deb {TUNA}/debian bookworm main\n"
        f"deb [signed-by=/k.gpg] {TUNA}/debian-security bookworm-security main\n"
        f"deb {TUNA}/ubuntu/ jammy main\n"
        f"deb {TUNA}/ubuntu/ jammy-security main\n"
        f"deb {TUNA}/ubuntu-ports/ jammy main\n"
        "deb https://developer.download.nvidia.com/compute/cuda/repos/x86_64/ /\n")
    deb822 = ("Types: deb\nURIs: http://archive.ubuntu.com/ubuntu/ "
              "http://security.ubuntu.com/ubuntu/\nSuites: noble\n")
    assert sources_rewritten(deb822, "http://10.0.0.1:8080") == (
        "Types: deb\nURIs: http://10.0.0.1:8080/ubuntu/ http://10.0.0.1:8080/ubuntu/\n"
        "Suites: noble\n")
