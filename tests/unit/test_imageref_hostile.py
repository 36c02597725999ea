"""Image references a hostile student might type: only an allowed registry host (and port),
never the bot's own gpurent/ namespace, never a name the engine reads as an image ID."""

from __future__ import annotations

import pytest

from docker_ops.imageref import (
    ReservedImageError,
    names_reserved,
    parse_custom_ref,
    parse_image_ref,
    registry_allowed,
)

ALLOW = ["nvcr.io", "docker.io", "127.0.0.1:5000", "ghcr.io/lab"]
HEX64 = "a" * 64


@pytest.mark.parametrize("ref", [
    "nvcr.io.evil.example/nvidia/pytorch:23.10-py3",  # the allowed host as a prefix
    "evil.example/nvcr.io/pytorch",                   # ... or as a path
    "nvcr.io@evil.example/x",                         # userinfo-like forms
    "user@nvcr.io/nvidia/pytorch",
    "user:pw@nvcr.io/nvidia/pytorch",
    "docker.io@evil.example/library/ubuntu",
    "nvcr.io:443/nvidia/pytorch",                     # a port the entry does not name
    "nvcr.io:/nvidia/pytorch",
    "NVCR.IO/nvidia/pytorch",                         # not the entry as written
    "Nvcr.io/nvidia/pytorch",
    "Docker.io/library/ubuntu",
    "nvcr.іo/nvidia/pytorch",                         # Cyrillic і
    "ｎｖｃｒ.io/nvidia/pytorch",                     # full-width letters
    "xn--nvcr-xxa.io/nvidia/pytorch",                 # punycode lookalike
    "nvcr.io./nvidia/pytorch",                        # trailing dot
    "localhost/nvidia/pytorch",
    "localhost:5000/nvidia/pytorch",
    "LOCALHOST:5000/nvidia/pytorch",
    "127.0.0.1/nvidia/pytorch",                       # the allowed address, another port
    "127.0.0.1:05000/nvidia/pytorch",
    "127.0.0.1:50000/nvidia/pytorch",
    "127.1:5000/nvidia/pytorch",
    "[::1]:5000/nvidia/pytorch",
    "registry-1.docker.io/library/ubuntu",
    "ghcr.io/other/tools:1",                          # outside the allowed namespace
    "ghcr.io/labx/tools:1",
])
def test_hosts_not_exactly_in_the_allow_list_are_refused(ref: str) -> None:
    assert registry_allowed(ref, ALLOW) is False


@pytest.mark.parametrize("ref", [
    "nvcr.io/nvidia/pytorch:23.10-py3", "ubuntu", "docker.io/library/ubuntu:22.04",
    "index.docker.io/library/debian:12", "127.0.0.1:5000/nvidia/pytorch:23.10-py3",
    "ghcr.io/lab/tools:1", "ghcr.io/lab/team/tools", f"nvcr.io/nvidia/cuda@sha256:{HEX64}",
])
def test_exact_hosts_and_namespaces_pass(ref: str) -> None:
    assert registry_allowed(ref, ALLOW) is True


def test_allow_entries_are_read_without_case_or_trailing_slash() -> None:
    assert registry_allowed("nvcr.io/nvidia/x", [" NVCR.io/ "]) is True
    assert registry_allowed("nvcr.io/nvidia/x", ["", "/"]) is False


@pytest.mark.parametrize("ref", [
    "gpurent/r17:rev1", "GPURENT/r17:rev1", "GpuRent/r17", "docker.io/gpurent/r17:rev2",
    "index.docker.io/gpurent/r17", "docker.io/library/gpurent", "gpurent", "gpurent:latest",
    "library/../gpurent/r17", "ｇｐｕｒｅｎｔ/r17", "nvcr.io/gpurent/r1", " gpurent/r17 ",
    "127.0.0.1:5000/gpurent/test-base:latest",
])
def test_the_reserved_namespace_is_refused_in_any_form(ref: str) -> None:
    assert names_reserved(ref)
    with pytest.raises(ReservedImageError):
        parse_custom_ref(ref)


@pytest.mark.parametrize("ref", ["gpurent-tools/x", "lab/gpurentals", "nvcr.io/nvidia/pytorch"])
def test_names_that_only_contain_the_word_are_not_reserved(ref: str) -> None:
    assert not names_reserved(ref)


@pytest.mark.parametrize("ref", [
    "abc123", "deadbeef", "0123456789ab", HEX64, "abc123:latest", "docker.io/library/cafe",
    f"sha256:{HEX64}", "sha256:abc123", "sha256",
])
def test_names_the_engine_reads_as_image_ids_are_refused(ref: str) -> None:
    with pytest.raises(ValueError, match="image ID"):
        parse_custom_ref(ref)


@pytest.mark.parametrize("ref", [
    f"@sha256:{HEX64}", f"ubuntu@sha256:{HEX64[:12]}", f"ubuntu@sha256:{HEX64.upper()}",
    f"ubuntu@sha512:{HEX64}", "ubuntu@", f"ubuntu@{HEX64}", f"@{HEX64}",
])
def test_digests_other_than_name_at_sha256_are_refused(ref: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        parse_custom_ref(ref)


@pytest.mark.parametrize("ref", [
    "ubuntu", "nvcr.io/nvidia/pytorch:23.10-py3", f"ubuntu@sha256:{HEX64}",
    "user/abc123", "pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime",
])
def test_ordinary_names_pass_the_student_parse(ref: str) -> None:
    assert parse_custom_ref(ref) == parse_image_ref(ref)
