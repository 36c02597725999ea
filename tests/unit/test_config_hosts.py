"""[[hosts]]: Docker over plain TCP is refused unless the config says so; TLS keys go in pairs."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config

TLS = {"tls_ca": "/etc/gpurent/ca.pem", "tls_cert": "/etc/gpurent/cert.pem",
       "tls_key": "/etc/gpurent/key.pem"}


def host(**keys: object) -> dict[str, object]:
    return {"hosts": [{"name": "A"}, {"name": "B", **keys}]}


@pytest.mark.parametrize("url", ["tcp://10.0.0.2:2375", "http://10.0.0.2:2375"])
def test_plain_tcp_without_tls_is_refused_naming_the_key_and_the_fix(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(host(docker_url=url), "lab.toml")
    text = str(caught.value)
    assert text.startswith("lab.toml: hosts[1].docker_url: ")
    assert "insecure_tcp = true" in text and "tls_ca" in text


def test_plain_tcp_is_accepted_when_the_config_says_so_explicitly() -> None:
    config = parse_config(host(docker_url="tcp://10.0.0.2:2375", insecure_tcp=True))
    assert config.hosts[1].insecure_tcp is True
    assert parse_config(host()).hosts[1].insecure_tcp is False


def test_tcp_with_tls_needs_no_flag() -> None:
    config = parse_config(host(docker_url="tcp://hpc2:2376", **TLS))
    assert config.hosts[1].tls_cert == TLS["tls_cert"]
    assert parse_config(host(docker_url="tcp://hpc2:2376", tls_ca=TLS["tls_ca"])).hosts[1]


@pytest.mark.parametrize(("keys", "fragment"), [
    ({"insecure_tcp": "yes"}, "hosts[1].insecure_tcp: expected"),
    ({"insecure_tcp": 1}, "hosts[1].insecure_tcp: expected"),
    ({"docker_url": "tcp://h:2376", "tls_cert": "/c.pem"}, "hosts[1].tls_key: tls_cert and"),
    ({"docker_url": "tcp://h:2376", "tls_key": "/k.pem"}, "hosts[1].tls_cert: tls_cert and"),
])
def test_odd_tls_settings_are_refused(keys: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(host(**keys), "lab.toml")
    assert fragment in str(caught.value)
