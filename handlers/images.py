"""/images (admins): the catalogue with Hide/Show and Remove buttons; ``/images add REF
[NAME]`` pulls the image onto every answering host (a progress bar in this chat), then offers
it in /request; ``/images prepare KEY`` builds a derived image with sshd, chpasswd and
jupyter-lab (its log in this chat) and offers that."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import auth
from bot import callbacks as cb
from bot.errors import UserError
from bot.i18n import t
from bot.notify import markup
from bot.ports import Keyboard
from bot.usecases import images as uc
from bot.usecases import prepare
from handlers.common import Context, Press, current_user, edit_or_alert, pressed


async def images_command(update: Update, context: Context) -> None:
    message, user, svc = update.effective_message, current_user(update, context), context.services
    if message is None:
        return
    words = list(context.args or [])
    if words and words[0].lower() == "prepare":
        await _prepare(update, context, words)
        return
    try:
        auth.require_admin(svc.config, user)
        if words:
            ref, name = uc.parse_add(svc.config, words)
        else:
            text, buttons = uc.listing(svc.config, user)
    except UserError as error:
        await message.reply_text(error.render(user.language), parse_mode=ParseMode.HTML)
        return
    if not words:
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup(buttons))
        return
    await message.reply_text(t(user.language, "img_adding"))
    svc.spawn(uc.add_and_tell(svc, user, ref, name, message.chat_id), name="image-add")


async def _prepare(update: Update, context: Context, words: list[str]) -> None:
    """Build the derived image beside the chat; its log comes in short chunks."""
    message, user, svc = update.effective_message, current_user(update, context), context.services
    assert message is not None
    try:
        base = prepare.target(svc, user, words)
    except UserError as error:
        await message.reply_text(error.render(user.language), parse_mode=ParseMode.HTML)
        return
    svc.spawn(prepare.prepare_and_tell(svc, user, base, message.chat_id),
              name=f"image-prepare-{base.key}")


async def _then_list(press: Press, context: Context, change: Any) -> None:
    svc = context.services

    def changed() -> tuple[str, Keyboard]:
        change(svc, press.user, press.values[0], svc.clock.now())
        return uc.listing(svc.config, press.user)

    await edit_or_alert(press, changed)


@pressed(cb.IMAGE_TOGGLE)
async def on_toggle(update: Update, context: Context, press: Press) -> None:
    await _then_list(press, context, uc.toggle)


@pressed(cb.IMAGE_REMOVE)
async def on_remove(update: Update, context: Context, press: Press) -> None:
    await _then_list(press, context, uc.remove)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler("images", images_command))
    app.add_handler(CallbackQueryHandler(on_toggle, pattern=cb.IMAGE_TOGGLE.pattern))
    app.add_handler(CallbackQueryHandler(on_remove, pattern=cb.IMAGE_REMOVE.pattern))
