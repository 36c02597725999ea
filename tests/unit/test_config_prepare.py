"""[prepare]: the package mirrors /images prepare builds with, checked when the config loads."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, PrepareConfig, parse_config


def test_no_mirrors_means_the_base_images_own_sources() -> None:
    assert parse_config({}).prepare == PrepareConfig("", "")


def test_the_mirrors_are_read_a_trailing_slash_dropped() -> None:
    config = parse_config({"prepare": {
        "apt_mirror": "https://mirrors.tuna.tsinghua.edu.cn/",
        "pip_index": "https://pypi.tuna.tsinghua.edu.cn/simple"}})
    assert config.prepare == PrepareConfig("https://mirrors.tuna.tsinghua.edu.cn",
                                           "https://pypi.tuna.tsinghua.edu.cn/simple")
    assert parse_config({"prepare": {"apt_mirror": "http://10.0.0.1:3142"}}).prepare.apt_mirror \
        == "http://10.0.0.1:3142"


@pytest.mark.parametrize(("keys", "fragment"), [
    ({"apt_mirror": "mirrors.tuna.tsinghua.edu.cn"}, "prepare.apt_mirror: 'mirrors.tuna"),
    ({"apt_mirror": "https://mirrors.tuna.tsinghua.edu.cn/debian"}, "prepare.apt_mirror: "),
    ({"apt_mirror": "https://m.example\nRUN id"}, "prepare.apt_mirror: "),
    ({"apt_mirror": 1}, "prepare.apt_mirror: expected a string"),
    ({"pip_index": "https://p.example/simple --trusted-host x"}, "prepare.pip_index: "),
    ({"pip_index": "pypi.tuna.tsinghua.edu.cn"}, "prepare.pip_index: "),
])
def test_a_bad_mirror_names_the_key_and_an_example(keys: dict[str, object],
                                                   fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"prepare": keys}, "lab.toml")
    text = str(caught.value)
    assert text.startswith("lab.toml: " + fragment), text
    if "expected a string" not in text:
        assert "tuna.tsinghua.edu.cn" in text  # an example of a good value
