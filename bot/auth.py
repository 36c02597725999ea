"""Who may do what: the one rule every command, button and use case asks.

The admin ids in the config are the authority; the ``role`` column only mirrors them for
display, and a blocked account is refused even if its id is listed. A rental's buttons belong
to the student who rents it. No Telegram here: handlers pass the presser's ``User`` row.
"""

from __future__ import annotations

from bot.config import Config
from bot.errors import UserError
from bot.i18n import esc
from models import rentals, settings
from models.tables import Rental, User

WHO = ("admin", "owner", "anyone")


def is_admin(config: Config, telegram_id: int) -> bool:
    return telegram_id in config.telegram.admins


def require_admin(config: Config, user: User | None) -> User:
    """``user`` if they may act as an admin; UserError("not_admin") otherwise."""
    if user is None or user.blocked or not is_admin(config, user.telegram_id):
        raise UserError("not_admin")
    return user


def refuse_blocked(user: User) -> None:
    """A blocked student may not request, extend, revive or change anything: UserError that
    says why (the reason the admin gave)."""
    if user.blocked:
        raise UserError("blocked_why", reason=esc(settings.block_reason(user)) or "—")


def owns(user: User, rental: Rental) -> bool:
    return bool(rental.user_id == user.id)  # type: ignore[attr-defined]


def rental_for(config: Config, user: User, rental_id: int, admins_too: bool = False) -> Rental:
    """The rental if ``user`` owns it (or is an admin, where the action allows admins); the
    same refusal either way, so a guessed id tells a stranger nothing."""
    rental = rentals.find(rental_id)
    if rental is not None and owns(user, rental):
        refuse_blocked(user)
        return rental
    if rental is not None and admins_too and not user.blocked and is_admin(config,
                                                                          user.telegram_id):
        return rental
    raise UserError("my_unknown")


def check_press(config: Config, who: str, user: User, rental_id: int | None = None) -> None:
    """Apply a button kind's ``who`` rule to the presser; UserError when refused."""
    if who == "admin":
        require_admin(config, user)
    elif who == "owner":
        if rental_id is None:
            raise ValueError("an owner's button carries the rental's id")
        rental_for(config, user, rental_id)
    elif who != "anyone":
        raise ValueError(f"unknown rule {who!r}")
