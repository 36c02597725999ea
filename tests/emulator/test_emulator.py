"""The Bot API emulator against the real python-telegram-bot, over real HTTP and long polling."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler
from telegram.ext import ContextTypes as Ctx

from tests.botemu import BotApiEmulator, EmuUser
from tests.botemu.html_check import HtmlError, parse_html

TOKEN = "123456:TEST-token"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x03" + b"\x00" * 40


async def on_start(update: Update, context: Ctx.DEFAULT_TYPE) -> None:
    assert update.effective_user and update.message
    keyboard = [
        [InlineKeyboardButton("Rent A100", callback_data="rent:a100")],
        [InlineKeyboardButton("Rent H100", callback_data="rent:h100")],
        [InlineKeyboardButton("Docs", url="https://example.com/docs")],
    ]
    await update.message.reply_html(
        f"Welcome, <b>{update.effective_user.first_name}</b> &amp; co",
        reply_markup=InlineKeyboardMarkup(keyboard),
    )


async def on_button(update: Update, context: Ctx.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query and query.data
    await query.answer(f"Booked {query.data}")
    await query.edit_message_text(f"You chose <i>{query.data}</i>", parse_mode=ParseMode.HTML)


async def on_files(update: Update, context: Ctx.DEFAULT_TYPE) -> None:
    assert update.effective_chat
    chat_id = update.effective_chat.id
    await context.bot.send_photo(chat_id, PNG, caption="Your <b>QR</b>", parse_mode="HTML")
    await context.bot.send_document(chat_id, b"ssh-ed25519 AAAA", filename="id_ed25519.pub")


def refused(error: type[Exception], description: str) -> pytest.RaisesExc[Exception]:
    """PTB drops "Bad Request: " and capitalizes the rest, so match case-insensitively."""
    return pytest.raises(error, match="(?i)" + re.escape(description))


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def app(emu: BotApiEmulator) -> AsyncIterator[Application]:
    builder = ApplicationBuilder().token(TOKEN).base_url(emu.base_url)
    application = builder.base_file_url(emu.base_file_url).build()
    application.add_handler(CommandHandler("start", on_start))
    application.add_handler(CommandHandler("files", on_files))
    application.add_handler(CallbackQueryHandler(on_button))
    await application.initialize()
    await application.start()
    assert application.updater
    await application.updater.start_polling(poll_interval=0, timeout=1)
    yield application
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


@pytest.fixture
def student(emu: BotApiEmulator) -> EmuUser:
    return emu.user(id=1001, first_name="Li", username="lili", language_code="zh")


async def test_it_answers_a_command_over_real_polling(app, emu, student) -> None:
    sent = await student.send("/start")
    reply = await student.wait_message(contains="Welcome", after=sent)
    assert reply.text == "Welcome, Li & co"
    assert reply.raw_text == "Welcome, <b>Li</b> &amp; co"
    assert reply.entities == [{"type": "bold", "offset": 9, "length": 2}]
    assert reply.buttons() == ["Rent A100", "Rent H100", "Docs"]
    assert reply.reply_markup[2][0].url == "https://example.com/docs"
    assert reply.chat_id == 1001 and reply.message_id == sent.message_id + 1
    assert student.started and app.bot.username == emu.username
    emu.assert_no_errors()


async def test_it_presses_a_button_and_sees_the_edit(app, emu, student) -> None:
    await student.send("/start")
    menu = await student.wait_message(contains="Welcome")
    answer = await student.press(menu, "H100")
    assert answer is not None and answer.text == "Booked rent:h100"
    assert emu.callback_answers == [answer]
    edited = await student.wait_message(contains="You chose", after=menu)
    assert edited is menu and menu.text == "You chose rent:h100"
    assert menu.history[0]["text"] == "Welcome, Li & co"
    assert menu.buttons() == []  # an edit without reply_markup drops the keyboard
    with pytest.raises(AssertionError, match=r"matches no button.*\[\]"):
        await student.press(menu, "Rent")
    emu.assert_no_errors()


async def test_it_finds_buttons_exactly_before_by_substring(app, student) -> None:
    await student.send("/start")
    menu = await student.wait_message(contains="Welcome")
    with pytest.raises(AssertionError, match="ambiguous"):
        await student.press(menu, "Rent")
    with pytest.raises(AssertionError, match="carries no callback_data"):
        await student.press(menu, "Docs")


async def test_it_lets_a_user_press_in_a_group(app, emu, student) -> None:
    admins = emu.group(id=-1001, title="Lab admins", members=[student])
    await student.send_to(admins, "/start@gpurent_test_bot")
    menu = await admins.wait_message(contains="Welcome")
    await student.press(menu, "Rent A100")
    await admins.wait_message(contains="rent:a100")
    assert student.messages == []
    emu.assert_no_errors()


async def test_it_keeps_photo_and_document_bytes(app, emu, student) -> None:
    await student.send("/files")
    photo = await student.wait_message(predicate=lambda m: m.photo is not None)
    document = await student.wait_message(predicate=lambda m: m.document is not None)
    assert photo.photo == PNG and photo.caption == "Your QR"
    assert document.document == b"ssh-ed25519 AAAA" and document.filename == "id_ed25519.pub"
    assert photo.file is not None
    telegram_file = await app.bot.get_file(photo.file.file_id)
    assert bytes(await telegram_file.download_as_bytearray()) == PNG
    await emu.wait_idle()
    assert emu.max_per_second(1001) == 2 and emu.max_per_second(-1001) == 0
    emu.assert_no_errors()


async def test_it_keeps_commands_per_scope_and_language(app, emu) -> None:
    admin_scope = BotCommandScopeChat(chat_id=-1001)
    await app.bot.set_my_commands([BotCommand("start", "Start")])
    await app.bot.set_my_commands(
        [BotCommand("rent", "租用 GPU")], scope=BotCommandScopeAllPrivateChats(), language_code="zh"
    )
    await app.bot.set_my_commands([BotCommand("pending", "Pending")], scope=admin_scope)
    assert emu.commands() == [("start", "Start")]
    assert emu.commands({"type": "all_private_chats"}, "zh") == [("rent", "租用 GPU")]
    assert emu.commands({"type": "all_private_chats"}) == []
    fetched = await app.bot.get_my_commands(scope=admin_scope)
    assert [(c.command, c.description) for c in fetched] == [("pending", "Pending")]
    await app.bot.delete_my_commands(scope=admin_scope)
    assert await app.bot.get_my_commands(scope=admin_scope) == ()
    with refused(BadRequest, "BOT_COMMAND_INVALID"):
        await app.bot.set_my_commands([BotCommand("Rent-GPU", "bad")])


@pytest.mark.parametrize(
    ("text", "markup", "expected"),
    [
        ("x" * 4097, None, "message is too long"),
        ("   \n ", None, "message text is empty"),
        ("<div>x</div>", None, 'Unsupported start tag "div"'),
        ("<b>bold", None, 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", None, 'expected "</i>", found "</b>"'),
        ("a&nbsp;b", None, 'Unsupported HTML entity "&nbsp;"'),
        ("1 < 2", None, "can't parse entities"),
        ("ok", [[InlineKeyboardButton("x", callback_data="租" * 22)]], "BUTTON_DATA_INVALID"),
        ("ok", [[InlineKeyboardButton("x", url="http://localhost:8888")]], "Wrong HTTP URL"),
    ],
)
async def test_it_refuses_what_telegram_refuses(app, emu, student, text, markup, expected) -> None:
    await student.send("hello")
    keyboard = InlineKeyboardMarkup(markup) if markup else None
    with refused(BadRequest, expected):
        await app.bot.send_message(1001, text, parse_mode="HTML", reply_markup=keyboard)
    assert [(e.method, e.error_code) for e in emu.errors] == [("sendMessage", 400)]
    assert expected in emu.errors[0].description and student.messages == []


async def test_it_counts_visible_text_and_caption_limits(app, emu, student) -> None:
    await student.send("hi")
    await app.bot.send_message(1001, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    await app.bot.send_photo(1001, PNG, caption="c" * 1024)
    with refused(BadRequest, "message caption is too long"):
        await app.bot.send_photo(1001, PNG, caption="c" * 1025)
    assert [m.kind for m in student.messages] == ["text", "photo"]
    assert len(emu.errors) == 1


async def test_it_refuses_edits_and_deletes_that_telegram_refuses(app, emu, student) -> None:
    with refused(Forbidden, "bot can't initiate conversation with a user"):
        await app.bot.send_message(1001, "hello first")
    await student.send("hi")
    sent = await app.bot.send_message(1001, "hello")
    with refused(BadRequest, "message to edit not found"):
        await app.bot.edit_message_text("new", chat_id=1001, message_id=999)
    with refused(BadRequest, "message is not modified"):
        await app.bot.edit_message_text("hello", chat_id=1001, message_id=sent.message_id)
    await app.bot.delete_message(1001, sent.message_id)
    with refused(BadRequest, "message to delete not found"):
        await app.bot.delete_message(1001, sent.message_id)
    assert student.messages[0].deleted
    assert [e.error_code for e in emu.errors] == [403, 400, 400, 400]
    student.block()
    with refused(Forbidden, "blocked"):
        await app.bot.send_message(1001, "still there?")


async def test_it_answers_raw_http_like_telegram(emu) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{emu.base_url}1:wrong/getMe") as response:
            assert response.status == 401
            assert (await response.json())["description"] == "Unauthorized"
        async with session.post(f"{emu.base_url}{TOKEN}/sendTelepathy") as response:
            body = await response.json()
            assert response.status == 404 and body["error_code"] == 404
            assert body == {**body, "ok": False, "description": "Not Found: method not found"}
        async with session.get(f"{emu.base_url}{TOKEN}/getMe") as response:
            me = (await response.json())["result"]
            assert me["is_bot"] is True and me["can_join_groups"] is True and me["id"] == 123456


async def test_get_updates_long_polls_until_an_update_arrives(emu, student) -> None:
    url = f"{emu.base_url}{TOKEN}/getUpdates"
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        async with session.post(url, json={"timeout": 1}) as response:
            assert (await response.json()) == {"ok": True, "result": []}
        assert 0.9 <= time.monotonic() - started < 3.0

        poll = asyncio.create_task(session.post(url, data={"timeout": "10"}))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await student.send("/start")
        response = await poll
        updates = (await response.json())["result"]
        assert time.monotonic() - started < 0.5
    message = updates[0]["message"]
    assert message["text"] == "/start" and isinstance(message["date"], int)
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert message["date"] < 10_000_000_000  # seconds, not milliseconds


async def test_get_updates_honours_offset_limit_and_allowed_updates(emu, student) -> None:
    for text in ("one", "two", "three"):
        await student.send(text)
    url = f"{emu.base_url}{TOKEN}/getUpdates"
    async with aiohttp.ClientSession() as session:
        first = await (await session.post(url, json={"limit": 2})).json()
        ids = [u["update_id"] for u in first["result"]]
        rest = await (await session.post(url, json={"offset": ids[-1] + 1})).json()
        assert [u["message"]["text"] for u in rest["result"]] == ["three"]
        only = {"allowed_updates": '["callback_query"]', "timeout": "0"}
        assert (await (await session.post(url, data=only)).json())["result"] == []
    assert len(ids) == 2


async def test_wait_message_failure_shows_the_chat(app, emu, student) -> None:
    await student.send("/start")
    await student.wait_message(contains="Welcome")
    with pytest.raises(AssertionError, match=r"(?s)contains='Goodbye'.*#1 user 1001: '/start'"):
        await student.wait_message(contains="Goodbye", timeout=0.1)


def test_html_parser_counts_utf16_and_keeps_languages() -> None:
    text, entities = parse_html('😀 <a href="https://x.org/?a=1&amp;b=2">link</a>')
    assert text == "😀 link"
    assert entities == [
        {"type": "text_link", "offset": 3, "length": 4, "url": "https://x.org/?a=1&b=2"}
    ]
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]
    assert parse_html("<tg-spoiler>s</tg-spoiler> R&D")[0] == "s R&D"
    with pytest.raises(HtmlError, match='must have class "tg-spoiler"'):
        parse_html("<span>x</span>")
    with pytest.raises(HtmlError, match='Unsupported start tag "br"'):
        parse_html("a<br>b")
