"""Tests of the fake Telegram Bot API server, driven by python-telegram-bot's real HTTP stack."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.demo.harness import live_bot, step_buttons
from bot.engine.loader import load_flows
from fakeapi import TINY_PNG, FakeBotApi, TelegramLimits
from tests.support.paths import FLOWS_DIR

KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Setuju", callback_data="approve")],
     [InlineKeyboardButton("Tolak", callback_data="reject")]]
)  # fmt: skip


def _fakeapi_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fakeapi")]


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    server = FakeBotApi().start()
    try:
        yield server
    finally:
        port = server.port
        server.stop()
        assert not _fakeapi_threads(), "server threads leaked"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as b:
        yield b


@contextlib.asynccontextmanager
async def running_app(api: FakeBotApi, *handlers: Any) -> AsyncIterator[Application]:
    """A real PTB Application polling the fake server; fails the test on handler errors."""
    app = (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    errors: list[BaseException] = []

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.error is not None
        errors.append(context.error)

    for handler in handlers:
        app.add_handler(handler)
    app.add_error_handler(on_error)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert not errors, errors


# --------------------------------------------------------------------------- basics


async def test_get_me_and_tokens(api: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123, "sopbot_test_bot", True)
    assert api.base_url == f"http://127.0.0.1:{api.port}/bot"
    assert api.base_file_url == f"{api.api_root}/file/bot"

    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=api.base_url):
            pass
    assert api.calls("getMe", ok=False)[0].status == 401

    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    # method names are case-insensitive, like on api.telegram.org
    assert (await bot.do_api_request("GETME"))["username"] == "sopbot_test_bot"


def _raw(api: FakeBotApi, path: str, data: bytes | None = None, ctype: str = "") -> Any:
    request = urllib.request.Request(api.api_root + path, data=data)
    if ctype:
        request.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_raw_http_encodings(api: FakeBotApi) -> None:
    api.user(5, "Sari")
    status, body = _raw(api, "/bot123:TEST/getMe")
    assert status == 200 and body["result"]["id"] == 123
    payload = {"chat_id": 5, "text": "json", "reply_markup": {"inline_keyboard": []}}
    status, body = _raw(
        api, "/bot123:TEST/sendMessage", json.dumps(payload).encode(), "application/json"
    )
    assert status == 200 and body["result"]["text"] == "json"
    status, body = _raw(
        api, "/bot123:TEST/sendMessage", b"chat_id=5&text=form", "application/x-www-form-urlencoded"
    )
    assert body["result"]["message_id"] == 2
    status, body = _raw(api, "/bot123:TEST/sendMessage?chat_id=5&text=query")
    assert body["result"]["text"] == "query"
    assert _raw(api, "/bot1:NOPE/getMe") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert _raw(api, "/bot123:TEST/fooBar")[0] == 404
    assert _raw(api, "/file/bot123:TEST/documents/missing.pdf")[0] == 404


async def test_send_message_and_errors(api: FakeBotApi, bot: Bot) -> None:
    api.user(1001, "Alice")
    sent = await bot.send_message(1001, "Halo & selamat, ketik /bantuan")
    assert sent.text == "Halo & selamat, ketik /bantuan"
    stored = api.last_message(1001)
    assert stored is not None and stored["text"] == sent.text and "entities" not in stored

    assert (await bot.send_message(1001, "x" * 4096)).text == "x" * 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(1001, "x" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(1001, "   ")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hello")
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(
            1001,
            "pilih",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("terlalu panjang", callback_data="x" * 65)]]
            ),
        )
    ok = await bot.send_message(
        1001,
        "pilih",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("64", callback_data="é" * 32)]]),
    )
    assert api.buttons(api.message(1001, ok.message_id)) == [("64", "é" * 32)]
    assert len(api.messages(1001)) == 3


async def test_replies(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    question = alice.send_text("Kapan kantor buka?")
    answer = await bot.send_message(
        1001, "Jam 08.00", reply_parameters=ReplyParameters(question["message_id"])
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "Kapan kantor buka?"
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(1001, "?", reply_parameters=ReplyParameters(999))
    reply = alice.send_text("terima kasih", reply_to=answer.message_id)
    assert reply["reply_to_message"]["message_id"] == answer.message_id
    assert [m["from"].get("is_bot", False) for m in api.history(alice)] == [False, True, False]


async def test_edits_and_callback_answers(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    msg = await bot.send_message(1001, "Setujui cuti?", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Setujui cuti?", 1001, msg.message_id, reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(1001, msg.message_id, reply_markup=KEYBOARD)

    query_id = alice.press(msg, "approve")
    update = (await bot.get_updates())[0]
    assert update.callback_query is not None
    assert update.callback_query.data == "approve"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == msg.message_id
    assert await update.callback_query.answer("Disetujui", show_alert=True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await update.callback_query.answer()
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("nope")
    assert api.callback_answer(query_id) is not None
    assert api.callback_answers[0]["show_alert"] is True

    # editing the text without reply_markup drops the keyboard, like Telegram does
    edited = await bot.edit_message_text("Cuti disetujui", 1001, msg.message_id)
    assert edited.edit_date is not None and edited.reply_markup is None
    assert api.buttons(api.last_message(alice)) == []
    with pytest.raises(ValueError, match="no button"):
        alice.press(msg, "approve")
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", 1001, 999)
    shown = await bot.edit_message_reply_markup(1001, msg.message_id, reply_markup=KEYBOARD)
    assert api.buttons(api.message(1001, shown.message_id))[0] == ("Setuju", "approve")


async def test_files_upload_download_and_resend(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    content = b"%PDF-1.4 surat keputusan"
    sent = await bot.send_document(1001, content, filename="sk.pdf", caption="SK")
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type) == ("sk.pdf", "application/pdf")
    assert sent.caption == "SK"
    file = await bot.get_file(sent.document.file_id)
    assert file.file_path == f"{api.base_file_url}{api.token}/documents/file_1.pdf"
    assert bytes(await file.download_as_bytearray()) == content
    again = await bot.send_document(1001, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_document(1001, "unknown-file-id")

    photo = await bot.send_photo(1001, TINY_PNG, caption="foto")
    assert (photo.photo[-1].width, photo.photo[-1].height) == (1, 1)
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(1001, b"not an image")

    upload = alice.send_document("data.csv", b"a,b\n1,2\n")
    update = (await bot.get_updates())[0]
    assert update.message is not None and update.message.document is not None
    assert update.message.document.file_id == upload["document"]["file_id"]
    user_file = await update.message.document.get_file()
    assert bytes(await user_file.download_as_bytearray()) == b"a,b\n1,2\n"


async def test_commands_by_scope_and_language(api: FakeBotApi, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Mulai"), BotCommand("help", "Bantuan")])
    await bot.set_my_commands(
        [BotCommand("izin", "Ajukan izin")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="id",
    )
    assert api.commands() == [
        {"command": "start", "description": "Mulai"},
        {"command": "help", "description": "Bantuan"},
    ]
    assert api.commands("all_private_chats", "id")[0]["command"] == "izin"
    assert api.commands("all_private_chats") == []  # no fallback between scopes/languages
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Command", "x")])


async def test_webhook_excludes_polling(api: FakeBotApi, bot: Bot) -> None:
    assert await bot.set_webhook("https://example.invalid/hook", secret_token="s3")
    assert api.webhook_info == {"url": "https://example.invalid/hook", "secret_token": "s3"}
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert api.webhook_info["url"] == ""
    assert await bot.get_updates() == ()


# ------------------------------------------------------------------------- updates


async def test_get_updates_offset_semantics(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    for text in ("satu", "dua", "tiga"):
        alice.send_text(text)
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["satu", "dua", "tiga"]
    # not confirmed yet: delivered again
    assert [u.update_id for u in await bot.get_updates()] == [u.update_id for u in first]
    # offset confirms every update with a smaller id, forever
    second = await bot.get_updates(offset=first[1].update_id)
    assert [u.update_id for u in second] == [first[1].update_id, first[2].update_id]
    assert api.confirmed_offset == first[1].update_id
    assert [u["update_id"] for u in api.pending_updates()] == [u.update_id for u in second]
    assert len(await bot.get_updates(limit=1)) == 1
    assert await bot.get_updates(offset=first[2].update_id + 1) == ()
    assert api.pending_updates() == []
    assert await bot.get_updates(offset=first[0].update_id) == ()  # gone for good


async def test_long_poll_blocks_until_update_or_timeout(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2.5

    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    alice.send_text("bangun")
    updates = await poll
    assert time.monotonic() - started < 1.0
    assert updates[0].message is not None and updates[0].message.text == "bangun"


async def test_second_poller_terminates_first_with_conflict(api: FakeBotApi, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    async with Bot(api.token, base_url=api.base_url) as other:
        assert await other.get_updates() == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await poll


# ------------------------------------------------------------------ fault injection


async def test_fault_500_then_success(api: FakeBotApi, bot: Bot) -> None:
    api.user(1001, "Alice")
    api.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(1001, "coba")
    assert (await bot.send_message(1001, "coba lagi")).text == "coba lagi"
    assert [c.status for c in api.calls("sendMessage")] == [500, 200]
    api.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(1001, "proxy")
    api.fail_next("*", disconnect=True)
    with pytest.raises(NetworkError):
        await bot.send_message(1001, "putus")
    assert [m["text"] for m in api.messages(1001)] == ["coba lagi"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fault_429_retry_after(api: FakeBotApi, bot: Bot) -> None:
    api.user(1001, "Alice")
    api.fail_next("sendMessage", status=429, retry_after=7, count=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(1001, "banjir")
        assert caught.value.retry_after in (7, dtm.timedelta(seconds=7))
    assert (await bot.send_message(1001, "lolos")).text == "lolos"


async def test_fault_delay_times_out_but_message_was_sent(api: FakeBotApi) -> None:
    api.user(1001, "Alice")
    api.fail_next("sendMessage", status=None, delay=1.0)
    request = HTTPXRequest(read_timeout=0.2)
    async with Bot(api.token, base_url=api.base_url, request=request) as slow:
        with pytest.raises(TimedOut):
            await slow.send_message(1001, "terlambat")
    assert [m["text"] for m in api.messages(1001)] == ["terlambat"]


async def test_blocked_and_not_started_users(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(1001, "Alice")
    stranger = api.user(2002, "Dewi", started=False)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(stranger.id, "halo")
    stranger.send_text("/start")
    assert (await bot.send_message(stranger.id, "halo")).chat.id == 2002

    alice.block_bot()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(1001, "masih di sana?")
    kinds = [next(k for k in u if k != "update_id") for u in api.pending_updates()]
    assert kinds == ["message", "my_chat_member"]
    alice.send_text("/start")  # writing to the bot again unblocks it
    assert (await bot.send_message(1001, "selamat datang kembali")).text

    api.fail_next("sendMessage", status=403)
    with pytest.raises(Forbidden):
        await bot.send_message(1001, "x")


# ------------------------------------------------------------------- flood limits


class FakeMonotonic:
    """Seconds that pass only when the test says so (the limiter's clock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@contextlib.asynccontextmanager
async def limited(**limits: Any) -> AsyncIterator[tuple[FakeBotApi, Bot, FakeMonotonic]]:
    clock = FakeMonotonic()
    with FakeBotApi(limits=TelegramLimits(**limits), limits_clock=clock) as server:
        async with Bot(server.token, base_url=server.base_url) as b:
            yield server, b, clock


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_limit_per_private_chat() -> None:
    async with limited() as (api, bot, clock):
        api.user(1001, "Alice")
        api.user(1002, "Budi")
        assert (await bot.send_message(1001, "satu")).text == "satu"
        # another chat is counted on its own
        assert (await bot.send_message(1002, "untuk Budi")).text == "untuk Budi"
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(1001, "dua")
        assert _seconds(caught.value.retry_after) == 1
        clock.now += 0.5
        with pytest.raises(RetryAfter):  # an edit is a message too
            await bot.edit_message_text("satu!", 1001, 1)
        clock.now += 0.5
        assert (await bot.send_message(1001, "dua")).text == "dua"
        assert api.flood_rejections == 2
        # what Alice sees: only what got through, in order
        assert [m["text"] for m in api.messages(1001)] == ["satu", "dua"]
        assert [c.status for c in api.calls("sendMessage")] == [200, 200, 429, 200]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_limit_overall() -> None:
    async with limited() as (api, bot, clock):
        for chat in range(1, 32):
            api.user(chat, f"Pejabat {chat}")
        for chat in range(1, 31):  # 30 chats in the same instant: each under its own limit
            await bot.send_message(chat, "pengingat")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(31, "pengingat")
        assert _seconds(caught.value.retry_after) == 1
        clock.now += 1.0
        await bot.send_message(31, "pengingat")
        assert api.flood_rejections == 1 and len(api.messages()) == 31


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_limit_per_group_chat() -> None:
    async with limited() as (api, bot, clock):
        api.register_chat(-100, title="Sekretariat")
        for n in range(20):
            await bot.send_message(-100, f"rekap {n}")
            clock.now += 1.0
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(-100, "rekap 20")
        assert _seconds(caught.value.retry_after) == 40  # the first one leaves the minute
        clock.now += 40
        await bot.send_message(-100, "rekap 20")
        assert [m["text"] for m in api.messages(-100)] == [f"rekap {n}" for n in range(21)]


async def test_no_flood_limits_unless_asked(api: FakeBotApi, bot: Bot) -> None:
    api.user(1001, "Alice")
    for n in range(40):
        await bot.send_message(1001, f"pesan {n}")
    assert api.flood_rejections == 0 and len(api.messages(1001)) == 40


# ---------------------------------------------------------------- Application e2e


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(f"echo: {update.message.text}", reply_markup=KEYBOARD)


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(f"start args={context.args}")


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"pilihan: {query.data}")
    await query.edit_message_text(f"Anda memilih {query.data}")


async def _document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.document is not None
    file = await update.message.document.get_file()
    data = await file.download_as_bytearray()
    await update.message.reply_document(
        update.message.document.file_id, caption=f"{len(data)} bytes"
    )


async def test_application_end_to_end(api: FakeBotApi) -> None:
    alice = api.user(1001, "Alice")
    handlers = (
        CommandHandler("start", _start),
        MessageHandler(filters.TEXT & ~filters.COMMAND, _echo),
        MessageHandler(filters.Document.ALL, _document),
        CallbackQueryHandler(_button),
    )
    async with running_app(api, *handlers):
        alice.send_text("/start KODE123")
        assert (await alice.await_message())["text"] == "start args=['KODE123']"

        alice.send_text("halo")
        reply = await api.await_message(alice, "echo: halo")
        assert api.buttons(reply) == [("Setuju", "approve"), ("Tolak", "reject")]

        query_id = alice.press_button(reply, "Setuju")
        edited = await api.await_message(alice, "Anda memilih approve", include_edits=True)
        assert edited["message_id"] == reply["message_id"]
        assert "reply_markup" not in edited
        answer = await api.await_for(lambda: api.callback_answer(query_id))
        assert answer["text"] == "pilihan: approve"

        upload = alice.send_document("surat.pdf", b"%PDF-1.4 isi", mime_type="application/pdf")
        back = await api.await_message(alice, "12 bytes")
        assert back["document"]["file_id"] == upload["document"]["file_id"]
        await api.await_idle(idle=0.05)
        last_update_id = api.calls("getUpdates", ok=True)[-1].result[-1]["update_id"]
    # Updater.stop() confirms what it fetched with a final getUpdates(offset=...)
    assert api.pending_updates() == []
    assert api.confirmed_offset == last_update_id + 1


def test_sync_waiting_with_bot_in_another_thread(api: FakeBotApi) -> None:
    api.user(1001, "Alice")

    async def later() -> None:
        async with Bot(api.token, base_url=api.base_url) as b:
            await asyncio.sleep(0.1)
            await b.send_message(1001, "Selamat pagi")

    worker = threading.Thread(target=asyncio.run, args=(later(),))
    worker.start()
    try:
        assert api.wait_for_message(1001, "Selamat")["text"] == "Selamat pagi"
    finally:
        worker.join()
    with pytest.raises(AssertionError, match=r"(?s)not met within 0.2s.*sendMessage\("):
        api.wait_for_message(1001, "tidak ada", timeout=0.2)
    api.wait_until_idle(idle=0.05)


def test_restart_and_context_manager() -> None:
    with FakeBotApi(token="42:ABC", bot_username="x_bot") as server:
        assert server.bot_user["id"] == 42
    assert not server.running and not _fakeapi_threads()
    server.start()
    try:
        assert server.port > 0
        assert _raw(server, "/bot42:ABC/getMe")[1]["result"]["username"] == "x_bot"
    finally:
        server.stop()
    assert not _fakeapi_threads()
    with pytest.raises(ValueError):
        FakeBotApi(token="not-a-token")


async def test_the_real_bot_under_flood_limits(tmp_path: Any) -> None:
    """The harness turns the limits on for the demo and the benchmarks; the bot keeps
    Telegram's pace (no 429 at all) and every message arrives once, in order."""
    flows = load_flows(FLOWS_DIR)
    async with live_bot(flows, tmp_path / "data", flows_dir=FLOWS_DIR, limits=True) as h:
        camat = await h.join("Bu Camat", "kec-neglasari", "camat")
        await h.say(camat, "mulai PK 2025", expect="Started")
        step = await camat.await_message(lambda m: step_buttons(m), timeout=10)
        await h.settle(10)
        assert h.api.flood_rejections == 0  # the reply and the step a second apart
        texts = [m["text"] for m in h.api.messages(camat)]
        assert len(texts) == 3 and texts[0].startswith("Welcome") and texts[2] == step["text"]
        assert [c.status for c in h.api.calls("sendMessage", ok=True)] == [200] * 3
