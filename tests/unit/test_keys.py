"""SSH keys: which we accept (and why not), and where they go: every running rental of the
student at once, every later one when it starts; keys only when the option says so."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from bot.errors import UserError
from bot.services import Services
from bot.usecases import keyring, keys
from models import selfservice as store
from tests.unit.test_lifecycle import OTHER, START, STUDENT, FakeRuntime, rent, student

OPENSSH = (serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)


def ed25519_line(comment: str = "ada@laptop") -> str:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(*OPENSSH).decode() + f" {comment}"


def rsa_line(bits: int) -> str:
    return rsa.generate_private_key(65537, bits).public_key().public_bytes(*OPENSSH).decode()


def keys_only(svc: Services) -> None:
    svc.config = replace(svc.config, rental=replace(svc.config.rental,
                                                    keys_only_when_keyed=True))


def test_ed25519_ecdsa_and_long_rsa_keys_are_accepted_without_their_comment() -> None:
    line = ed25519_line()
    key = keyring.parse(line)
    assert (key.kind, key.bits) == ("ssh-ed25519", 256) and "laptop" not in key.line
    assert key.fingerprint.startswith("SHA256:") and len(key.fingerprint) == 50
    ecdsa = ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(*OPENSSH).decode()
    assert keyring.parse(ecdsa).bits == 384
    assert keyring.parse(rsa_line(2048)).bits == 2048


@pytest.mark.parametrize(("text", "reason"), [
    ("ssh-rsa AAAA", "key_bad"),
    ("hello there", "key_kind"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn...\n", "key_private"),
    ("ssh-ed25519", "key_bad"),
])
def test_what_is_not_a_key_we_take_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(UserError) as refused:
        keyring.parse(text)
    assert refused.value.key == reason


def test_short_rsa_and_dsa_keys_are_refused_with_why() -> None:
    with pytest.raises(UserError) as short:
        keyring.parse(rsa_line(1024))
    assert short.value.key == "key_rsa_short" and short.value.values["bits"] == 1024
    with pytest.raises(UserError) as weak:
        keyring.parse("ssh-dss AAAAB3NzaC1kc3MAAACBAP1 old@box")
    assert weak.value.key == "key_dsa"


def test_a_blob_of_another_type_than_it_claims_is_refused() -> None:
    b64 = ed25519_line().split()[1]
    with pytest.raises(UserError) as refused:
        keyring.parse(f"ssh-rsa {b64}")
    assert refused.value.key == "key_bad"


async def test_a_key_goes_into_running_rentals_now_and_later_ones_at_start(
        svc: Services, runtime: FakeRuntime) -> None:
    first = await rent(svc)
    line = ed25519_line()
    reply = await keys.add(svc, student(), line, START)
    assert first.ref in reply
    assert runtime.keys[first.container_id] == [" ".join(line.split()[:2])]
    later = await rent(svc, gpus=1)
    assert runtime.keys[later.container_id] == [" ".join(line.split()[:2])]
    assert not runtime.named("lock_password")
    with pytest.raises(UserError) as twice:
        await keys.add(svc, student(), line, START)
    assert twice.value.key == "key_known"


async def test_keys_only_turns_the_password_off_and_the_credentials_say_so(
        svc: Services, runtime: FakeRuntime) -> None:
    keys_only(svc)
    running = await rent(svc)
    await keys.add(svc, student(), ed25519_line(), START)
    assert [c[2] for c in runtime.named("lock_password")] == [running.container_id]
    later = await rent(svc, gpus=1)
    assert runtime.named("lock_password")[-1][2] == later.container_id
    creds = svc.notifier.to(STUDENT, "ssh root@")[-1].text  # type: ignore[attr-defined]
    assert "log in with your SSH key" in creds


async def test_removing_the_last_key_under_keys_only_sends_a_new_password(
        svc: Services, runtime: FakeRuntime) -> None:
    keys_only(svc)
    rental = await rent(svc)
    line = ed25519_line()
    await keys.add(svc, student(), line, START)
    [key] = store.keys_of(student())
    with pytest.raises(UserError):
        await keys.remove(svc, student(OTHER), key.id, START)  # not theirs
    await keys.remove(svc, student(), key.id, START)
    assert runtime.keys[rental.container_id] == []
    assert len(runtime.named("set_root_password")) == 2  # a new password: not locked out
    text, buttons = keys.listing(student())
    assert buttons == [] and "no SSH keys" in text
