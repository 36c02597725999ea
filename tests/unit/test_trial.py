"""`gpurent check`'s trial container: each part of a rental's spec can be left out on its own,
and everything else stays exactly as a rental's container is created."""

from __future__ import annotations

import pytest

from bot.check import trial_spec
from bot.config import HostConfig
from docker_ops.containers import ContainerSpec, create_kwargs
from docker_ops.runtime import to_sdk_spec
from docker_ops.trial import PARTS, trial_kwargs


def spec() -> ContainerSpec:
    host = HostConfig(name="HPC1", memory_per_gpu="28g", cpus_per_gpu=4, memlock=1 << 20)
    return to_sdk_spec(trial_spec(host, ["0", "1"], "nvcr.io/nvidia/pytorch:20.12-py3"))


def test_nothing_left_out_is_the_rentals_own_arguments() -> None:
    made = spec()
    assert trial_kwargs(made, ()) == create_kwargs(made)
    assert made.gpu_ids == ["0", "1"] and made.mem_limit == "56g"
    assert made.nano_cpus == 8_000_000_000 and made.ulimits["memlock"] == (1 << 20, 1 << 20)
    assert made.labels == {"gpurent.check": "HPC1"} and made.workspace_dir == "/data/workspaces"


@pytest.mark.parametrize(("part", "gone"), [
    ("gpus", "device_requests"), ("shm", "shm_size"), ("memory", "mem_limit"),
    ("cpus", "nano_cpus"), ("pids", "pids_limit"), ("privileges", "security_opt"),
    ("workspace", "volumes")])
def test_each_part_leaves_out_its_argument_and_nothing_else(part: str, gone: str) -> None:
    made = spec()
    full, trimmed = create_kwargs(made), trial_kwargs(made, [part])
    assert gone in full and gone not in trimmed
    assert {k: str(v) for k, v in trimmed.items()} == {
        k: str(v) for k, v in full.items() if k != gone}


@pytest.mark.parametrize("limit", ["memlock", "stack"])
def test_a_ulimit_part_leaves_out_only_that_ulimit(limit: str) -> None:
    names = [u.name for u in trial_kwargs(spec(), [limit])["ulimits"]]
    assert limit not in names and len(names) == 1


def test_everything_left_out_is_a_bare_container_and_odd_parts_are_refused() -> None:
    bare = trial_kwargs(spec(), PARTS)
    assert bare["ulimits"] == [] and "device_requests" not in bare and "volumes" not in bare
    with pytest.raises(ValueError, match="unknown part"):
        trial_kwargs(spec(), ["ports"])
