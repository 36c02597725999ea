"""Parsing what a container's nvidia-smi prints: real output, and output a student's container
could print instead (missing values, missing columns, garbage, floods, lies about GPUs)."""

from __future__ import annotations

import struct

import pytest

from docker_ops import smi
from docker_ops.usage import device_ids, readings

MIB = 1 << 20
H200 = ("0, GPU-5d3c8a1e-1111-2222-3333-444455556666, 87, 40960, 143771, 61\n"
        "1, GPU-9f0e7d6c-aaaa-bbbb-cccc-ddddeeeeffff, 0, 0, 143771, 33\n")


def test_real_output_is_read_in_bytes_and_percent() -> None:
    first, second = smi.parse(H200)
    assert first == smi.SmiRow(0, "GPU-5d3c8a1e-1111-2222-3333-444455556666", 87,
                               40960 * MIB, 143771 * MIB, 61)
    assert (second.index, second.utilization, second.memory_used) == (1, 0, 0)


@pytest.mark.parametrize("cell", ["[N/A]", "[Not Supported]", "N/A", "", "-5", "12.5", "²",
                                  "0x10", "1e3", "101"])
def test_a_value_that_is_not_a_plain_number_in_range_reads_as_unknown(cell: str) -> None:
    [row] = smi.parse(f"0, GPU-00000000-0000, {cell}, 1, 2, 30\n")
    assert row.utilization is None and row.memory_used == MIB


def test_missing_memory_makes_the_memory_unknown_but_keeps_the_utilisation() -> None:
    [row] = smi.parse("0, [N/A], 55, [N/A], [Not Supported], [N/A]")
    assert (row.utilization, row.memory_used, row.memory_total, row.uuid) == (55, None, None, "")
    [reading] = readings([("3", row)])
    assert reading == ("3", 55, 0, 0, None)  # total 0: the sample ignores memory


def test_a_row_without_the_temperature_column_still_counts() -> None:
    [row] = smi.parse("0, GPU-12345678-aaaa, 10, 1, 2")
    assert row.utilization == 10 and row.temperature is None


@pytest.mark.parametrize("text", [
    "", "\n\n", "0, GPU-1, 10", "0,1,2,3,4,5,6", "index, uuid, utilization.gpu [%]",
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    "x, GPU-1, 10, 1, 2, 3", "-1, GPU-1, 10, 1, 2, 3", "64, GPU-1, 10, 1, 2, 3",
    "\x00\xff\xfe garbage ,,,,,", "９, GPU-1, 10, 1, 2, 3",
])
def test_lines_that_are_not_gpu_rows_give_no_reading(text: str) -> None:
    assert smi.parse(text) == []


def test_a_flood_of_rows_is_cut_and_a_repeated_index_keeps_its_first_row() -> None:
    text = "0, GPU-1, 5, 1, 2, 3\n0, GPU-1, 99, 1, 2, 3\n" + "1, x, 1, 1, 1, 1\n" * 10_000
    rows = smi.parse(text)
    assert [r.index for r in rows] == [0, 1] and rows[0].utilization == 5


def test_huge_numbers_are_unknown_not_overflowing() -> None:
    [row] = smi.parse("0, GPU-1, 100, 99999999999, 9" + "9" * 5000 + ", 30")
    assert row.utilization == 100 and row.memory_used is None and row.memory_total is None


def test_container_gpus_map_to_the_host_ids_it_holds_in_host_order() -> None:
    rows = smi.parse("0, a, 10, 1, 2, 3\n1, b, 20, 1, 2, 3\n2, c, 99, 1, 2, 3\n")
    mapped = smi.to_host(rows, ["10", "3"])
    assert [(gpu, row.utilization) for gpu, row in mapped] == [("3", 10), ("10", 20)]


def test_a_container_cannot_report_gpus_it_does_not_hold() -> None:
    rows = smi.parse("5, a, 10, 1, 2, 3\n")
    assert smi.to_host(rows, ["0", "1"]) == []


def frame(kind: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", kind, len(data)) + data


def test_the_exec_stream_is_split_and_a_torn_tail_dropped() -> None:
    raw = frame(1, b"0, a,") + frame(2, b"warn") + frame(1, b" 1, 2, 3, 4") + b"\x01\x00\x00"
    assert smi._demux(raw) == (b"0, a, 1, 2, 3, 4", b"warn")


@pytest.mark.parametrize(("code", "out", "err", "says"), [
    (127, b"", b"", "no nvidia-smi"),
    (126, b'OCI runtime exec failed: exec: "nvidia-smi": executable file not found', b"",
     "no nvidia-smi"),
    (None, b"0, a, 1, 1, 1, 1", b"", "did not finish"),
    (9, b"NVIDIA-SMI has failed because it couldn't communicate with the driver", b"",
     "exited 9: NVIDIA-SMI has failed"),
    (0, b"No devices were found", b"", "no GPU rows"),
])
def test_an_unusable_answer_is_a_plain_error_never_a_crash(code: int | None, out: bytes,
                                                           err: bytes, says: str) -> None:
    with pytest.raises(smi.SmiUnavailableError) as caught:
        smi._verdict(code, out, err, "HPC2")
    assert says in caught.value.message and "HPC2" in caught.value.message


def test_gpu_ids_come_from_the_gpu_device_requests_only() -> None:
    inspected = {"HostConfig": {"DeviceRequests": [
        {"Driver": "", "DeviceIDs": ["2", "0"], "Capabilities": [["gpu"]]},
        {"Driver": "other", "DeviceIDs": ["9"], "Capabilities": [["fpga"]]}]}}
    assert device_ids(inspected) == ("2", "0")
    assert device_ids({"HostConfig": {"DeviceRequests": None}}) == ()
    assert device_ids({}) == ()
