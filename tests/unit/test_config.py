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


# --- values that parse but would break later are refused at load, with the key named ---

HUGE = int("9" * 200)


@pytest.mark.parametrize(("data", "fragment"), [
    ({"rental": {"password_message_ttl_h": 1e9}}, "rental.password_message_ttl_h: "),
    ({"rental": {"password_message_ttl_h": float("nan")}}, "rental.password_message_ttl_h: "),
    ({"rental": {"password_message_ttl_h": 0}}, "rental.password_message_ttl_h: "),
    ({"rental": {"ready_timeout_s": float("inf")}}, "rental.ready_timeout_s: "),
    ({"rental": {"max_extra_ports": -1}}, "rental.max_extra_ports: -1 is out of range"),
    ({"rental": {"max_extra_ports": 10**6}}, "rental.max_extra_ports: "),
    ({"rental": {"max_live_per_student": HUGE}}, "rental.max_live_per_student: "),
    ({"rental": {"registry_allow": [2]}}, "rental.registry_allow: 2 is not a registry"),
    ({"rental": {"registry_allow": ["nvcr.io", ""]}}, "rental.registry_allow: '' is not"),
    ({"rental": {"registry_allow": ["evil example"]}}, "rental.registry_allow: "),
    ({"rental": {"max_quantity": {"hour": 10**9}}}, "rental.max_quantity.hour: "),
    ({"rental": {"max_quantity": {"month": 25}}}, "rental.max_quantity.month: 25 months is"),
    ({"rental": {"max_quantity": {"year": 1}}}, "rental.max_quantity.year: unknown unit"),
    ({"billing": {"week_days": 999999999}}, "billing.week_days: 999999999 is out of range"),
    ({"billing": {"month_days": 10**12}}, "billing.month_days: "),
    ({"billing": {"month_days": 0}}, "billing.month_days: "),
    ({"billing": {"payment_payload": "{amount:>999999999}"}}, "billing.payment_payload: "),
    ({"billing": {"payment_note": "x" * 5000}}, "billing.payment_note: longer than"),
    ({"plans": [{"gpus": 1, "unit": "hour", "price": "9" * 5000}]}, "plans[0].price: "),
    ({"plans": [{"gpus": 10**6, "unit": "hour", "price": "2"}]}, "plans[0].gpus: "),
    ({"fees": {"image_change": HUGE}}, "fees.image_change: "),
    ({"hosts": [{"name": "A", "cpus_per_gpu": 1e300}]}, "hosts[0].cpus_per_gpu: "),
    ({"hosts": [{"name": "A", "memlock": 2**70}]}, "hosts[0].memlock: "),
    ({"hosts": [{"name": "A", "memory_per_gpu": "99999999999g"}]}, "hosts[0].memory_per_gpu: "),
    ({"hosts": [{"name": "A", "gpus": ["²"]}]}, "hosts[0].gpus: "),
    ({"telegram": {"admins": [-5]}}, "telegram.admins: "),
    ({"telegram": {"admin_chat": 2**70}}, "telegram.admin_chat: "),
    ({"telegram": {"api_base_url": "api.telegram.org"}}, "telegram.api_base_url: "),
    ({"lifecycle": {"reminders": ["99999999999d"]}}, "lifecycle.reminders: "),
    ({"lifecycle": {"idle_window": "400d"}}, "lifecycle.idle_window: '400d' is longer than"),
    ({"lifecycle": {"sample_every": "1s"}}, "lifecycle.sample_every: must be at least 30s"),
    ({"lifecycle": {"sample_keep_days": 10**12}}, "lifecycle.sample_keep_days: "),
    ({"lifecycle": {"idle_util_percent": float("nan")}}, "lifecycle.idle_util_percent: "),
])
def test_values_that_would_break_later_are_refused_with_the_key(
        data: dict[str, object], fragment: str) -> None:
    msg = error_of(data)
    assert msg.startswith("lab.toml: " + fragment), msg
    assert len(msg) < 300


def test_max_quantity_follows_the_labs_month_length() -> None:
    config = parse_config({"billing": {"month_days": 28}, "plans": [
        {"gpus": 1, "unit": "month", "price": "700"}], "rental": {"max_quantity": {"month": 26}}})
    assert config.rental.max_quantity["month"] == 26
    assert "at most 23" in error_of({"billing": {"month_days": 31}, "plans": [
        {"gpus": 1, "unit": "month", "price": "700"}], "rental": {"max_quantity": {"month": 24}}})


def test_a_5000_digit_number_in_the_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "lab.toml"
    path.write_text("[fees]\nimage_change = " + "9" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"lab\.toml: not valid TOML"):
        load_config(path)


@pytest.mark.parametrize("proxy", [
    "socks5://127.0.0.1:1080", "socks5h://proxy.lab:1080", "http://10.0.0.2:3128",
    "http://user:pw@proxy.lab:3128"])
def test_a_proxy_url_is_accepted(proxy: str) -> None:
    assert parse_config({"telegram": {"proxy": proxy}}).telegram.proxy == proxy


@pytest.mark.parametrize(("proxy", "fragment"), [
    ("127.0.0.1:1080", "expected a URL like"),
    ("ftp://proxy:21", "expected a URL like"),
    ("socks5://127.0.0.1", "give the proxy's host and port"),
    ("socks5://127.0.0.1:99999", "give the proxy's host and port"),
    ("http://proxy.lab:3128/path", "only scheme://"),
])
def test_a_bad_proxy_is_refused_with_the_key(proxy: str, fragment: str) -> None:
    msg = error_of({"telegram": {"proxy": proxy}})
    assert msg.startswith("lab.toml: telegram.proxy: ") and fragment in msg


def test_a_bad_proxy_error_never_shows_its_password() -> None:
    assert "s3cret" not in error_of({"telegram": {"proxy": "ftp://me:s3cret@proxy.lab:21"}})


def test_gpurent_check_refuses_a_bad_value_with_status_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    path = tmp_path / "lab.toml"
    path.write_text("[billing]\nweek_days = 999999999\n", encoding="utf-8")
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"gpurent: {path}: billing.week_days: 999999999 is out of range: " \
                          "must be from 1 to 14"
