"""Different users' updates run at once; one user's run one after another, in order."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.updates import PerUserUpdateProcessor


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"U{user_id}", is_bot=False)
    chat = Chat(user_id, "private")
    message = Message(update_id, None, chat, from_user=user, text="/x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_users_updates_keep_their_order_while_others_run_beside_them() -> None:
    processor = PerUserUpdateProcessor()
    log: list[tuple[str, int, int]] = []
    running: set[int] = set()
    most_at_once = 0

    async def handle(update_id: int, user_id: int, pause: float) -> None:
        nonlocal most_at_once
        log.append(("start", user_id, update_id))
        running.add(update_id)
        most_at_once = max(most_at_once, len(running))
        await asyncio.sleep(pause)
        running.discard(update_id)
        log.append(("end", user_id, update_id))

    plan = [(1, 7, 0.05), (2, 7, 0.0), (3, 8, 0.0), (4, 7, 0.0), (5, 9, 0.02)]
    await asyncio.gather(*(processor.process_update(_update(u, who), handle(u, who, pause))
                           for u, who, pause in plan))

    mine = [(kind, u) for kind, who, u in log if who == 7]
    assert mine == [("start", 1), ("end", 1), ("start", 2), ("end", 2), ("start", 4), ("end", 4)]
    assert log.index(("end", 8, 3)) < log.index(("end", 7, 1))  # not stuck behind user 7
    assert most_at_once >= 3


async def test_updates_without_a_user_run_and_leave_no_lock_behind() -> None:
    processor = PerUserUpdateProcessor()
    done: list[int] = []

    async def note(n: int) -> None:
        done.append(n)

    await processor.process_update(object(), note(1))
    await processor.process_update(_update(2, 5), note(2))

    assert done == [1, 2]
    assert not processor._locks and not processor._queued
