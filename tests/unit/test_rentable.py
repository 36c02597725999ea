"""The template that makes an NGC image rentable: one file, its base set per image."""

from __future__ import annotations

import re

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
