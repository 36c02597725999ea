"""Best-fit placement and port picking."""

from __future__ import annotations

from bot.placement import best_fit, pick_ports


def test_one_gpu_goes_to_the_host_with_fewest_free_that_fits() -> None:
    spot = best_fit(1, {"HPC1": ["0", "1"], "HPC2": ["1"]})
    assert spot is not None and spot.host == "HPC2" and spot.gpu_ids == ("1",)


def test_two_gpus_need_one_host_with_two_free() -> None:
    assert best_fit(2, {"HPC1": ["1"], "HPC2": ["0"]}) is None
    spot = best_fit(2, {"HPC1": ["1"], "HPC2": ["1", "0"]})
    assert spot is not None and spot.host == "HPC2" and spot.gpu_ids == ("0", "1")


def test_ties_go_to_the_first_host() -> None:
    spot = best_fit(1, {"HPC1": ["0", "1"], "HPC2": ["0", "1"]})
    assert spot is not None and spot.host == "HPC1" and spot.gpu_ids == ("0",)


def test_gpu_ids_sort_numerically() -> None:
    spot = best_fit(2, {"big": ["10", "2", "9"]})
    assert spot is not None and spot.gpu_ids == ("2", "9")


def test_ports_skip_taken_ones_and_wrap() -> None:
    assert pick_ports((100, 105), {100, 101, 103}, 2) == [102, 104]
    assert pick_ports((100, 105), {102}, 2, start_after=104) == [105, 100]
    assert pick_ports((100, 101), {100}, 2) == [101]
