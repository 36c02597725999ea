"""What the fuzz's people type, send and forge: mostly things the bot understands (commands,
numbers, image references, port lists, SSH keys) so sequences get deep into the dialogues,
mixed with hostile input (HTML, non-ASCII digits, huge texts) and plain random text."""

from __future__ import annotations

import base64
import struct

from hypothesis import strategies as st


class Big(str):
    """A long text that a failing sequence prints short."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Big({self[:1]!r} * {len(self)})"


class BigBytes(bytes):
    def __repr__(self) -> str:
        return f"BigBytes({self[:16]!r}… {len(self)} bytes)"


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _ed25519(seed: int) -> str:
    blob = _ssh_string(b"ssh-ed25519") + _ssh_string(bytes([seed]) * 32)
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} fuzz{seed}@lab"


KEYS = [_ed25519(1), _ed25519(2), "ssh-dss AAAAB3NzaC1kc3MAAACBAP== old@box",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 short@box",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
        "-----END OPENSSH PRIVATE KEY-----", "ssh-ed25519 not-base64!! x@y"]

COMMANDS = ["/start", "/help", "/request", "/my", "/keys", "/bill", "/pay", "/lang",
            "/lang en", "/lang zh", "/lang fr", "/cancel", "/pending", "/rentals", "/rental",
            "/queue", "/users", "/user", "/hosts", "/images", "/report", "/broadcast",
            "/maintenance", "/audit", "/nosuchcommand", "/start@gpurent_test_bot",
            "/request@someone_else_bot"]

ARGS = ["", "R1", "R2", "1", "2", "3", "0", "-1", "²", "٣", "99999999999999", "all",
        "active", "queued", "expired", "failed", "on", "off", "on back soon", "all hello",
        "hello <b>students</b>", "add nvcr.io/nvidia/pytorch:23.10-py3 Torch",
        "add docker.io/library/ubuntu:22.04", "add gpurent/r17:rev1", "prepare pytorch",
        "prepare tf2", "prepare nope", "@ada", "1002", "2026-03", "2026-13", "<i>", Big("x" * 300)]

SNIPPETS = ["1", "2", "3", "4", "8", "0", "-3", "1.5", "²", "٣", "１", "99999999999999",
            "nvcr.io/nvidia/pytorch:23.10-py3", "docker.io/library/ubuntu:22.04",
            "nvcr.io.evil.example/x:1", "docker.io@evil/x", "gpurent/r17:rev1", "<b>x</b>",
            "6006", "6006,8080", "22", "65536", "6006, 6006", "1,2,3,4,5,6,7,8,9",
            "train a ResNet", "训练一个模型", "<script>alert(1)</script>", "&amp; &lt;",
            "block", "yes", "100", "12.50", "-5", "refund 10", "hello students", *KEYS,
            Big("x" * 5000), Big("🙂" * 3000)]

CUSTOM_IMAGES = ["nvcr.io/nvidia/pytorch:23.10-py3", "docker.io/library/ubuntu:22.04",
                 "nvcr.io.evil.example/x:1", "gpurent/r1:rev1", "<b>x</b>/y:1", Big("x" * 300)]
# in the /request dialogue: "" taps a button instead of typing
TYPED_ANSWERS = ["", "", "", "1", "3", "0", "²", "٣", "999", "6006 8080", "22", "<b>",
                 "训练模型", Big("x" * 600)]
DECISIONS = ["appr:", "appr:", "rej:", "rejr:", "pay:", "pay:full:", "ca:", "cr:", "card:",
             "arok:", "ara:"]

MENUS = ["/my", "/my", "/keys", "/bill", "/pay", "/start", "/rentals", "/rentals all",
         "/rentals expired", "/queue", "/users", "/user 1001", "/user @ada", "/rental R1",
         "/rental R2", "/rental R3", "/images", "/pending", "/hosts"]

MINUTES = [0.5, 1, 2, 5, 15, 30, 60, 61, 180, 600, 24 * 60, 3 * 24 * 60, 8 * 24 * 60]

DOCUMENTS = [("id_ed25519.pub", KEYS[0].encode() + b"\n", ""),
             ("id_ed25519.pub", KEYS[1].encode(), "my key"),
             ("id_dsa.pub", KEYS[2].encode(), ""),
             ("id_ed25519.pub", b"\xff\xfe not text", ""),
             ("id_ed25519.pub", b"", ""),
             ("big.pub", BigBytes(b"ssh-ed25519 " + b"A" * 200_000), ""),
             ("id_ed25519", KEYS[4].encode(), ""),
             ("notes.txt", b"hello", "a caption <b>"),
             ("Dockerfile", b"FROM ubuntu\n", "/images add")]

FORGED_GARBAGE = ["rejr:1:zzz", "card:1", "card:999", "appr:0", "appr:01", "appr:1:2", "appr",
                  "appr:", ":", "req:start", "req:start:1", "rq:img:", "rq:qty:999",
                  "rq:ports:<b>", "🙂", "exy:1:day:1:1", "zzz", "old:button:1",
                  "arok:1:end:1", "pay:full:1", "pay:part:999999999999", "kdel:1", "x" * 64]


def texts() -> st.SearchStrategy[str]:
    command = st.builds(lambda c, a: f"{c} {a}".strip(), st.sampled_from(COMMANDS),
                        st.sampled_from(ARGS))
    random = st.text(min_size=1, max_size=40).filter(lambda s: bool(s.strip()))
    return st.one_of(command, st.sampled_from(SNIPPETS), st.sampled_from(SNIPPETS), random)
