"""Config errors name the file, the key and what is wrong; defaults are the lab's."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).resolve().parents[2] / "gpurent.example.toml"


def error_of(data: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "lab.toml")
    return str(caught.value)


def test_example_config_parses_with_the_labs_eight_plans() -> None:
    config = load_config(EXAMPLE)
    assert [h.name for h in config.hosts] == ["HPC1", "HPC2"]
    assert len(config.prices.plans_for(1)) == 4 and len(config.prices.plans_for(2)) == 4
    assert config.prices.plan(2, "hour").price == 360
    assert config.fees.image_change == 3000 and config.fees.port_change == 3000


def test_port_out_of_range_names_host_index_and_key() -> None:
    msg = error_of({"hosts": [{"name": "A"}, {"name": "B", "port_range": [70000, 70010]}]})
    assert msg == "lab.toml: hosts[1].port_range: 70000 is not a port"


@pytest.mark.parametrize(("data", "fragment"), [
    ({"timezone": "Mars/Olympus"}, "timezone: 'Mars/Olympus' is not a known time zone"),
    ({"language": "fr"}, "language: 'fr'"),
    ({"hosts": [{"name": "A", "gpus": "all"}]}, "hosts[0].gpus"),
    ({"hosts": [{"name": "A", "gpus": ["0", "0"]}]}, "distinct"),
    ({"hosts": [{"name": "A"}, {"name": "A"}]}, "host names must be unique"),
    ({"hosts": [{"name": "A", "memory_per_gpu": "lots"}]}, "hosts[0].memory_per_gpu"),
    ({"plans": [{"gpus": 1, "unit": "fortnight", "price": "2"}]}, "plans[0].unit"),
    ({"plans": [{"gpus": 1, "unit": "hour", "price": "2.005"}]}, "plans[0].price"),
    ({"fees": {"image_change": "abc"}}, "fees.image_change"),
    ({"telegram": {"admins": ["alice"]}}, "telegram.admins"),
    ({"telegram": {"token": "123:abc"}}, "do not put the token in the file"),
    ({"rental": {"max_quantity": {"hour": 0}}}, "rental.max_quantity.hour"),
    ({"billing": {"payment_payload": "{amount} {who}"}}, "billing.payment_payload"),
    ({"hosts": "HPC1"}, "hosts: must be a list of tables"),
])
def test_bad_values_are_refused_with_the_key(data: dict[str, object], fragment: str) -> None:
    msg = error_of(data)
    assert msg.startswith("lab.toml: ")
    assert fragment in msg


def test_missing_token_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GPURENT_BOT_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="GPURENT_BOT_TOKEN"):
        parse_config({}).bot_token()


def test_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_TOKEN", " 1:abc ")
    config = parse_config({"telegram": {"token_env": "MY_TOKEN"}})
    assert config.bot_token() == "1:abc"


def test_defaults_run_one_local_host_with_sqlite() -> None:
    config = parse_config({})
    assert config.database_url.startswith("sqlite:///")
    assert config.hosts[0].docker_url == "unix:///var/run/docker.sock"
    assert config.prices.gpu_counts() == [1, 2]


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("hosts = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
