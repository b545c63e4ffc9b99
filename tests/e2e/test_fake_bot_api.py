"""The fake Bot API against a real PTB Bot and Application: does it behave like Telegram?"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    ChatMember,
    ChatMemberBanned,
    ChatMemberRestricted,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fake_bot_api import (
    GROUP_ADMIN,
    TEST_TOKEN,
    ErrorRecord,
    FakeBotApi,
    RateLimits,
    Window,
)

# Imported under another name so test parameters do not shadow it; pytest registers it as
# "fake_bot_api" all the same.
from tests.fake_bot_api.fixtures import fake_bot_api as _fake_bot_api_fixture  # noqa: F401

ANN = 1001
SAM = 2002
STAFF_GROUP = -1001234567890
BASIC_GROUP = -4518810793


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    """One row of callback buttons, given as (text, callback_data)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in buttons]])


@contextlib.asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:
    """Run an Application with long polling for the duration of the block."""
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def member_updates(bot: Bot) -> list[ChatMemberUpdated]:
    """The my_chat_member updates getUpdates delivers now, parsed by PTB."""
    updates = await bot.get_updates(allowed_updates=[Update.MY_CHAT_MEMBER])
    return [update.my_chat_member for update in updates]


@pytest.fixture
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make PTB report RetryAfter.retry_after as a timedelta, without a deprecation warning."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_get_me_describes_the_bot(fake_bot_api: FakeBotApi) -> None:
    async with fake_bot_api.make_bot() as bot:
        me = await bot.get_me()
    assert (me.username, me.id, me.is_bot) == (
        "infusion_test_bot",
        int(TEST_TOKEN.split(":")[0]),
        True,
    )
    assert fake_bot_api.requests[0].method == "getMe"


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_a_user_who_never_wrote_is_chat_not_found(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.add_user(ANN)
    async with fake_bot_api.make_bot() as bot:
        with pytest.raises(BadRequest, match="^Chat not found$"):
            await bot.send_message(ANN, "Hello")
        with pytest.raises(BadRequest, match="^Chat not found$"):
            await bot.send_message(424242, "Hello")
    assert fake_bot_api.sent_to(ANN) == []


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_a_blocked_user_is_forbidden(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.add_user(ANN, started=True)
    fake_bot_api.block(ANN)
    async with fake_bot_api.make_bot() as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(ANN, "How is your pain today?")
    member_update = fake_bot_api.pending_updates[-1]["my_chat_member"]
    assert member_update["new_chat_member"]["status"] == "kicked"


@pytest.mark.asyncio
@pytest.mark.timeout(5)
@pytest.mark.usefixtures("timedelta_retry_after")
async def test_fail_next_429_raises_retry_after_once(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.add_user(ANN, started=True)
    fake_bot_api.fail_next("sendMessage", status=429, retry_after=3)
    async with fake_bot_api.make_bot() as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(ANN, "first")
        await bot.send_message(ANN, "second")
    assert caught.value.retry_after == timedelta(seconds=3)
    assert fake_bot_api.sent_to(ANN) == ["second"]
    expected = ErrorRecord("sendMessage", 429, "Too Many Requests: retry after 3", 3)
    assert fake_bot_api.rate_limited == [expected]


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_bad_gateway_and_dropped_connections_are_network_errors(
    fake_bot_api: FakeBotApi,
) -> None:
    fake_bot_api.add_user(ANN, started=True)
    fake_bot_api.fail_next("sendMessage", status=502)
    fake_bot_api.drop_next("sendMessage")
    fake_bot_api.drop_next("sendMessage", after_delivery=True)
    async with fake_bot_api.make_bot() as bot:
        for text in ("bad gateway", "dropped", "delivered but unanswered"):
            with pytest.raises(NetworkError):
                await bot.send_message(ANN, text)
        await bot.send_message(ANN, "fine again")
    assert fake_bot_api.sent_to(ANN) == ["delivered but unanswered", "fine again"]
    assert len(fake_bot_api.calls("sendMessage")) == 4


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_edits_that_change_nothing_are_refused(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.add_user(ANN, started=True)
    buttons = keyboard(("Yes", "yes"), ("No", "no"))
    async with fake_bot_api.make_bot() as bot:
        sent = await bot.send_message(ANN, "Pain today?", reply_markup=buttons)
        ids = {"chat_id": ANN, "message_id": sent.message_id}
        with pytest.raises(BadRequest, match="^Message is not modified"):
            await bot.edit_message_text("Pain today?", reply_markup=buttons, **ids)
        edited = await bot.edit_message_text("Pain today?", **ids)
        with pytest.raises(BadRequest, match="^Message is not modified"):
            await bot.edit_message_reply_markup(**ids)
    assert edited.reply_markup is None
    message = fake_bot_api.message(ANN, sent.message_id)
    assert message.buttons == []
    assert [(v.text, v.reply_markup) for v in message.edits] == [("Pain today?", buttons.to_dict())]


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_an_application_gets_commands_and_button_presses(fake_bot_api: FakeBotApi) -> None:
    ann = fake_bot_api.add_user(ANN, first_name="Ann")
    start_args: list[list[str]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        start_args.append(list(context.args or []))
        await update.effective_message.reply_text(
            "Did the infusion help?", reply_markup=keyboard(("Yes", "helped"), ("No", "no"))
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer("Noted", show_alert=True)
        await query.edit_message_text(f"You answered: {query.data}")

    app = fake_bot_api.application_builder().build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with polling(app):
        ann.send_text("/start invite-42")
        question = await ann.next_message(contains="infusion help")
        query_id = ann.press(question, button_text="Yes")
        await fake_bot_api.wait_for(lambda: question.edits)

    assert start_args == [["invite-42"]]
    assert question.text == "You answered: helped"
    assert [(a.query_id, a.text, a.show_alert) for a in fake_bot_api.callback_answers] == [
        (query_id, "Noted", True)
    ]
    with pytest.raises(AssertionError, match="its buttons now: \\[\\]"):
        ann.press(question, button_text="Yes")


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_stale_and_repeated_query_answers_are_refused(fake_bot_api: FakeBotApi) -> None:
    ann = fake_bot_api.add_user(ANN, started=True)
    async with fake_bot_api.make_bot() as bot:
        sent = await bot.send_message(ANN, "Pain today?", reply_markup=keyboard(("Yes", "yes")))
        stale = ann.press(sent, callback_data="yes")
        fresh = ann.press(sent, callback_data="yes")
        fake_bot_api.make_stale(stale)
        with pytest.raises(BadRequest, match="^Query is too old"):
            await bot.answer_callback_query(stale)
        await bot.answer_callback_query(fresh, text="Thanks")
        with pytest.raises(BadRequest, match="^Query is too old"):
            await bot.answer_callback_query(fresh)
        with pytest.raises(BadRequest, match="^Query is too old"):
            await bot.answer_callback_query("never-issued")
    assert [answer.query_id for answer in fake_bot_api.callback_answers] == [fresh]


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_documents_travel_both_ways(fake_bot_api: FakeBotApi) -> None:
    ann = fake_bot_api.add_user(ANN)
    ann.send_document("diary.txt", b"pain 3/10", mime_type="text/plain")
    async with fake_bot_api.make_bot() as bot:
        [update] = await bot.get_updates()
        received = await update.message.document.get_file()
        assert await received.download_as_bytearray() == b"pain 3/10"
        sent = await bot.send_document(
            ANN,
            document=b"day,pain\n1,3\n",
            filename="report.csv",
            caption="Your week",
            reply_markup=keyboard(("Got it", "ack")),
        )
    [document] = fake_bot_api.documents(ANN)
    assert (document.filename, document.data) == ("report.csv", b"day,pain\n1,3\n")
    assert sent.document.file_name == "report.csv"
    assert sent.caption == "Your week"
    assert fake_bot_api.messages(ANN)[0].buttons == [("Got it", "ack")]


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_get_updates_confirms_everything_below_the_offset(fake_bot_api: FakeBotApi) -> None:
    ann = fake_bot_api.add_user(ANN)
    for text in ("one", "two", "three"):
        ann.send_text(text)
    async with fake_bot_api.make_bot() as bot:
        first = await bot.get_updates()
        again = await bot.get_updates(offset=first[1].update_id)
        assert [u.message.text for u in again] == ["two", "three"]
        assert await bot.get_updates(offset=first[-1].update_id + 1) == ()
        assert fake_bot_api.pending_updates == []

        poll = asyncio.create_task(bot.get_updates(offset=first[-1].update_id + 1, timeout=30))
        await fake_bot_api.wait_for(lambda: len(fake_bot_api.calls("getUpdates")) == 4)
        ann.send_text("/help now")
        [late] = await asyncio.wait_for(poll, timeout=0.5)
    assert [u.message.text for u in first] == ["one", "two", "three"]
    assert late.message.entities[0].to_dict() == {"type": "bot_command", "offset": 0, "length": 5}


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_stickers_and_edits_reach_the_bot(fake_bot_api: FakeBotApi) -> None:
    ann = fake_bot_api.add_user(ANN)
    said = ann.send_text("pain 7")
    ann.send_sticker()
    ann.edit_message(said, "pain 4")
    async with fake_bot_api.make_bot() as bot:
        text, sticker, edit = await bot.get_updates()
    assert text.message.entities == ()
    assert sticker.message.sticker.emoji == "👍"
    assert (edit.edited_message.message_id, edit.edited_message.text) == (
        text.message.message_id,
        "pain 4",
    )


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_stopping_releases_a_pending_long_poll() -> None:
    server = FakeBotApi(long_poll_cap=30)
    await server.start()
    async with server.make_bot() as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=20))
        await server.wait_for(lambda: server.calls("getUpdates"))
        await asyncio.wait_for(server.stop(), timeout=2)
        assert await asyncio.wait_for(poll, timeout=2) == ()


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_staff_act_on_bot_messages_in_a_group(fake_bot_api: FakeBotApi) -> None:
    sam = fake_bot_api.add_user(2002, first_name="Sam")
    group = fake_bot_api.add_group(STAFF_GROUP, "Clinic staff", supergroup=True)
    async with fake_bot_api.make_bot() as bot:
        alert = await bot.send_message(
            STAFF_GROUP, "Patient 7 reports severe pain", reply_markup=keyboard(("Take", "take:7"))
        )
        group.send_text(sam, "/ack@infusion_test_bot 7")
        group.press(sam, alert, callback_data="take:7")
        command, press = await bot.get_updates()
    assert command.message.chat.type == "supergroup"
    assert command.message.entities[0].length == len("/ack@infusion_test_bot")
    query = press.callback_query
    assert (query.from_user.id, query.message.chat.id, query.data) == (2002, STAFF_GROUP, "take:7")
    assert query.message.reply_markup == keyboard(("Take", "take:7"))


@pytest.mark.asyncio
@pytest.mark.timeout(5)
@pytest.mark.usefixtures("timedelta_retry_after")
async def test_enforced_limits_refuse_a_burst_to_one_group() -> None:
    async with FakeBotApi(enforce_limits=True) as server:
        server.add_group(STAFF_GROUP, "Clinic staff")
        async with server.make_bot() as bot:
            for number in range(20):
                await bot.send_message(STAFF_GROUP, f"alert {number}")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(STAFF_GROUP, "one too many")
    assert timedelta(seconds=1) <= caught.value.retry_after <= timedelta(seconds=60)
    assert len(server.sent_to(STAFF_GROUP)) == 20
    assert [error.method for error in server.rate_limited] == ["sendMessage"]


@pytest.mark.asyncio
@pytest.mark.timeout(5)
@pytest.mark.usefixtures("timedelta_retry_after")
async def test_enforced_limits_tolerate_a_short_burst_in_a_private_chat() -> None:
    limits = RateLimits(private_chat=Window(limit=2, seconds=0.2))
    async with FakeBotApi(enforce_limits=True, limits=limits) as server:
        server.add_user(ANN, started=True)
        async with server.make_bot() as bot:
            await bot.send_message(ANN, "one")
            await bot.send_message(ANN, "two")
            with pytest.raises(RetryAfter):
                await bot.send_message(ANN, "three")
            await asyncio.sleep(0.2)
            await bot.send_message(ANN, "three, later")
    assert server.sent_to(ANN) == ["one", "two", "three, later"]


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_wrong_tokens_and_unknown_methods(fake_bot_api: FakeBotApi) -> None:
    stranger = Bot(
        "987654321:AAAnotherTokenNotTheServers_xyz",
        base_url=fake_bot_api.base_url,
        base_file_url=fake_bot_api.base_file_url,
    )
    try:
        with pytest.raises(InvalidToken):
            await stranger.initialize()
    finally:
        await stranger.shutdown()
    async with fake_bot_api.make_bot() as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")
    assert [(e.status, e.description) for e in fake_bot_api.errors] == [
        (401, "Unauthorized"),
        (404, "Not Found"),
    ]


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_json_bodies_are_understood_and_errors_look_like_telegrams(
    fake_bot_api: FakeBotApi,
) -> None:
    fake_bot_api.add_user(ANN, started=True)
    endpoint = f"{fake_bot_api.base_url}{fake_bot_api.token}"
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]}
    async with aiohttp.ClientSession() as http:
        sent = await http.post(
            f"{endpoint}/sendMessage", json={"chat_id": ANN, "text": "hi", "reply_markup": markup}
        )
        missing = await http.post(f"{endpoint}/sendMessage", json={"chat_id": 7, "text": "hi"})
        assert (await sent.json())["result"]["reply_markup"] == markup
        assert missing.status == 400
        assert await missing.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: chat not found",
        }
    assert fake_bot_api.messages(ANN)[0].buttons == [("Yes", "yes")]


@pytest.mark.timeout(10)
def test_thread_mode_serves_synchronous_callers() -> None:
    with FakeBotApi().start_in_thread() as handle:
        server = handle.server
        ann = handle.call(server.add_user, ANN, "Ann")
        handle.call(ann.send_text, "/start")
        endpoint = f"{server.base_url}{server.token}"
        updates = _post_form(f"{endpoint}/getUpdates", {"timeout": "0"})
        _post_form(f"{endpoint}/sendMessage", {"chat_id": str(ANN), "text": "Welcome, Ann"})
        welcome = handle.call(server.next_message, ANN, "Welcome", timeout=2)
    assert updates["result"][0]["message"]["text"] == "/start"
    assert welcome.text == "Welcome, Ann"
    with pytest.raises(RuntimeError):
        _ = handle.url


def _post_form(url: str, fields: dict[str, str]) -> Any:
    """POST form-encoded fields the way PTB does, from synchronous code."""
    body = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(url, data=body, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_writes_to_an_upgraded_group_name_its_supergroup(fake_bot_api: FakeBotApi) -> None:
    sam = fake_bot_api.add_user(SAM, first_name="Sam")
    fake_bot_api.add_group(BASIC_GROUP, "Clinic staff")
    async with fake_bot_api.make_bot() as bot:
        before = await bot.send_message(BASIC_GROUP, "Patient 7 reports severe pain")
        supergroup = fake_bot_api.migrate_group(BASIC_GROUP, STAFF_GROUP, by=sam)
        with pytest.raises(ChatMigrated) as sending:
            await bot.send_message(BASIC_GROUP, "Patient 8 reports severe pain")
        with pytest.raises(ChatMigrated) as editing:
            await bot.edit_message_text("Taken", chat_id=BASIC_GROUP, message_id=before.message_id)
        await bot.send_message(STAFF_GROUP, "Patient 8 reports severe pain")
        old_chat, new_chat = await bot.get_updates()
        info = await bot.get_chat(STAFF_GROUP)
    assert sending.value.new_chat_id == editing.value.new_chat_id == STAFF_GROUP
    assert (old_chat.message.chat.id, old_chat.message.migrate_to_chat_id) == (
        BASIC_GROUP,
        STAFF_GROUP,
    )
    assert (new_chat.message.chat.id, new_chat.message.migrate_from_chat_id) == (
        STAFF_GROUP,
        BASIC_GROUP,
    )
    assert old_chat.message.from_user.id == SAM
    assert (info.type, info.title, supergroup.chat_id) == (
        "supergroup",
        "Clinic staff",
        STAFF_GROUP,
    )
    assert fake_bot_api.count_sends(BASIC_GROUP) == fake_bot_api.count_sends(STAFF_GROUP) == 1
    assert fake_bot_api.errors[0].description == (
        "Bad Request: group chat was upgraded to a supergroup chat"
    )


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_a_restricted_bot_may_not_post_until_unrestricted(fake_bot_api: FakeBotApi) -> None:
    sam = fake_bot_api.add_user(SAM, first_name="Sam")
    fake_bot_api.add_group(STAFF_GROUP, "Clinic staff", supergroup=True)
    async with fake_bot_api.make_bot() as bot:
        alert = await bot.send_message(STAFF_GROUP, "Patient 7 reports severe pain")
        fake_bot_api.restrict_bot(STAFF_GROUP, by=sam)
        with pytest.raises(BadRequest) as text:
            await bot.send_message(STAFF_GROUP, "Patient 8 reports severe pain")
        with pytest.raises(BadRequest) as document:
            await bot.send_document(STAFF_GROUP, document=b"pain", filename="pain.csv")
        await bot.edit_message_text("Taken", chat_id=STAFF_GROUP, message_id=alert.message_id)
        fake_bot_api.unrestrict_bot(STAFF_GROUP)
        await bot.send_message(STAFF_GROUP, "Patient 8 reports severe pain")
        restricted, unrestricted = await member_updates(bot)
    assert text.value.message == "Not enough rights to send text messages to the chat"
    assert document.value.message == "Not enough rights to send documents to the chat"
    assert restricted.old_chat_member.status == ChatMember.MEMBER
    assert isinstance(restricted.new_chat_member, ChatMemberRestricted)
    assert restricted.new_chat_member.can_send_messages is False
    assert (restricted.from_user.id, restricted.chat.id) == (SAM, STAFF_GROUP)
    assert restricted.new_chat_member.user.id == int(TEST_TOKEN.split(":")[0])
    assert unrestricted.new_chat_member.status == ChatMember.MEMBER
    assert unrestricted.from_user.id == GROUP_ADMIN["id"]
    assert fake_bot_api.count_sends(STAFF_GROUP) == 2


@pytest.mark.asyncio
@pytest.mark.timeout(5)
@pytest.mark.parametrize(("chat_id", "kind"), [(BASIC_GROUP, "group"), (STAFF_GROUP, "supergroup")])
async def test_a_kicked_bot_is_told_and_forbidden(
    fake_bot_api: FakeBotApi, chat_id: int, kind: str
) -> None:
    fake_bot_api.add_group(chat_id, "Clinic staff", supergroup=kind == "supergroup")
    async with fake_bot_api.make_bot() as bot:
        alert = await bot.send_message(chat_id, "Patient 7 reports severe pain")
        fake_bot_api.kick_bot(chat_id)
        with pytest.raises(Forbidden) as sending:
            await bot.send_message(chat_id, "Patient 8 reports severe pain")
        with pytest.raises(Forbidden):
            await bot.edit_message_text("Taken", chat_id=chat_id, message_id=alert.message_id)
        [kicked] = await member_updates(bot)
    assert sending.value.message == f"Forbidden: bot was kicked from the {kind} chat"
    assert isinstance(kicked.new_chat_member, ChatMemberBanned)
    assert kicked.new_chat_member.until_date.timestamp() == 0
    assert kicked.old_chat_member.status == ChatMember.MEMBER
    assert kicked.from_user.id == GROUP_ADMIN["id"]


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_an_outage_answers_bad_gateway_until_it_ends(fake_bot_api: FakeBotApi) -> None:
    ann = fake_bot_api.add_user(ANN, started=True)
    async with fake_bot_api.make_bot() as bot:
        fake_bot_api.fail_for(30)
        with pytest.raises(NetworkError) as sending:
            await bot.send_message(ANN, "down")
        with pytest.raises(NetworkError, match="^Bad Gateway$"):
            await bot.get_chat(ANN)
        ann.send_text("still polling")
        assert len(await bot.get_updates()) == 1
        fake_bot_api.outage_over()
        await bot.send_message(ANN, "up again")

        fake_bot_api.fail_for(0.2, status=500, methods=["sendmessage"])
        await bot.get_chat(ANN)
        with pytest.raises(NetworkError, match="^Internal Server Error$"):
            await bot.send_message(ANN, "down again")
        await asyncio.sleep(0.2)
        await bot.send_message(ANN, "window over")
    assert (type(sending.value), sending.value.message) == (NetworkError, "Bad Gateway")
    assert fake_bot_api.sent_to(ANN) == ["up again", "window over"]
    assert len(fake_bot_api.calls("sendMessage")) == 4
    assert [(e.method, e.status) for e in fake_bot_api.errors] == [
        ("sendMessage", 502),
        ("getChat", 502),
        ("sendMessage", 500),
    ]
    with pytest.raises(ValueError, match="no methods"):
        fake_bot_api.fail_for(1, methods=["sendMesage"])


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_an_unanswering_outage_times_out_without_blocking_the_server(
    fake_bot_api: FakeBotApi,
) -> None:
    ann = fake_bot_api.add_user(ANN, started=True)
    async with fake_bot_api.make_bot() as bot:
        fake_bot_api.fail_for(30, timeout=True)
        hanging = asyncio.create_task(bot.send_message(ANN, "lost", read_timeout=0.5))
        await fake_bot_api.wait_for(lambda: fake_bot_api.calls("sendMessage"))
        ann.send_text("meanwhile")
        [meanwhile] = await asyncio.wait_for(bot.get_updates(), timeout=0.3)
        with pytest.raises(TimedOut):
            await hanging
        fake_bot_api.outage_over()
        await bot.send_message(ANN, "back")
    assert meanwhile.message.text == "meanwhile"
    assert fake_bot_api.sent_to(ANN) == ["back"]
    assert fake_bot_api.errors == []


@pytest.mark.asyncio
@pytest.mark.timeout(5)
async def test_count_sends_counts_delivered_text_messages(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.add_user(ANN, started=True)
    fake_bot_api.fail_next("sendMessage", status=502)
    fake_bot_api.drop_next("sendMessage", after_delivery=True)
    async with fake_bot_api.make_bot() as bot:
        for text in ("refused", "delivered, answer lost"):
            with pytest.raises(NetworkError):
                await bot.send_message(ANN, text)
        sent = await bot.send_message(ANN, "then deleted")
        await bot.delete_message(ANN, sent.message_id)
        await bot.send_document(ANN, document=b"day,pain", filename="week.csv")
    assert fake_bot_api.count_sends(ANN) == 2
