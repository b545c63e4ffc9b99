"""A fake Telegram Bot API server that a real PTB Bot or Application talks to over HTTP.

Async tests::

    async with FakeBotApi(token=TEST_TOKEN) as server:
        ann = server.add_user(1001, first_name="Ann")
        app = server.application_builder().build()  # or base_url=server.base_url yourself
        ...start the application and polling...
        ann.send_text("/start invite-code")
        reply = await server.next_message(ann.chat_id, contains="Welcome")
        ann.press(reply, button_text="Yes")
        await server.wait_for(lambda: server.callback_answers)

Sync tests (the bot running in a subprocess) run the server on its own loop in a thread and
reach it through the handle; `call` runs a function or coroutine function on that loop and
returns its result, which is how every simulation and wait helper stays thread-safe::

    with FakeBotApi(token=TEST_TOKEN).start_in_thread() as handle:
        server = handle.server
        ann = handle.call(server.add_user, 1001, "Ann")
        env = {"TELEGRAM_BASE_URL": server.base_url, "TELEGRAM_BASE_FILE_URL": ...}
        ...start the bot process...
        handle.call(ann.send_text, "/start invite-code")
        reply = handle.call(server.next_message, ann.chat_id, "Welcome", timeout=10)

URLs: methods at `{url}/bot{token}/{method}` (what PTB builds from base_url `{url}/bot`), files
at `{url}/file/bot{token}/{file_path}`. Unknown methods answer 404, another token 401.
Failures on demand: `fail_next` answers the next call(s) of a method with an error status,
`drop_next` closes the connection without an answer (optionally after doing the work),
`fail_for` opens an outage window (error statuses or unanswered calls) that `outage_over` ends.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.ext import ApplicationBuilder

from . import methods
from .errors import ApiError, injected, not_found, unauthorized
from .limits import RateLimits
from .model import ApiCall, ErrorRecord
from .params import read_params
from .world import BotWorld

TEST_TOKEN = "123456:fake-token-for-tests-only-not-real"
_THREAD_JOIN_SECONDS = 10.0
_HANG_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class _Fault:
    error: ApiError | None = None
    drop: bool = False
    after_delivery: bool = False


@dataclass(frozen=True)
class _Outage:
    until: float
    status: int
    methods: frozenset[str] | None
    timeout: bool
    chats: frozenset[int] | None = None

    def covers(self, method: str, chat_id: Any) -> bool:
        """Whether a call of `method` to `chat_id` made now falls in the outage."""
        if time.monotonic() >= self.until:
            return False
        if self.chats is not None and chat_id not in self.chats:
            return False
        if self.methods is None:
            return method != "getUpdates"
        return method.lower() in self.methods


class FakeBotApi(BotWorld):
    """The fake Telegram: an aiohttp server on 127.0.0.1 plus the world it serves.

    Use as `async with FakeBotApi(...) as server`, or `start_in_thread()` from sync code.
    """

    def __init__(
        self,
        token: str = TEST_TOKEN,
        bot_username: str = "infusion_test_bot",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        enforce_limits: bool = False,
        limits: RateLimits | None = None,
        callback_query_ttl: float = 15.0,
        long_poll_cap: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            token,
            bot_username,
            enforce_limits=enforce_limits,
            limits=limits or RateLimits(),
            callback_query_ttl=callback_query_ttl,
            long_poll_cap=long_poll_cap,
            clock=clock,
        )
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._faults: defaultdict[str, deque[_Fault]] = defaultdict(deque)
        self._outage: _Outage | None = None

    # Lifecycle

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT` once started."""
        if self._runner is None:
            raise RuntimeError("the fake Bot API is not running")
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """The base_url to give PTB (it appends the token and the method)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """The base_file_url to give PTB."""
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        """Listen on the configured host and port (0: a free one)."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # No access log: request paths carry the token.
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await runner.setup()
        await web.TCPSite(runner, self._host, self._port).start()
        self._runner = runner
        self._closing = False

    async def stop(self) -> None:
        """Answer pending long polls and stop listening."""
        if self._runner is None:
            return
        self._closing = True
        self._changed.fire()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def start_in_thread(self) -> ServerThread:
        """Run the server on a fresh event loop in a daemon thread; see ServerThread."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="fake-bot-api", daemon=True)
        thread.start()
        handle = ServerThread(self, loop, thread)
        try:
            handle.call(self.start)
        except BaseException:
            handle.stop()
            raise
        return handle

    # Clients

    def make_bot(self, **kwargs: Any) -> Bot:
        """A PTB Bot for this server's token and URLs (call `initialize` or use `async with`)."""
        return Bot(self.token, base_url=self.base_url, base_file_url=self.base_file_url, **kwargs)

    def application_builder(self) -> ApplicationBuilder:
        """A PTB ApplicationBuilder already pointed at this server."""
        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
        )

    # Failures on demand

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` with an error and no effect.

        429 carries parameters.retry_after (default 1) and Telegram's description; other
        statuses get their HTTP phrase unless `description` is given.
        """
        error = injected(status, retry_after, description)
        self._queue_fault(method, _Fault(error=error), times)

    def drop_next(self, method: str, *, times: int = 1, after_delivery: bool = False) -> None:
        """Close the connection of the next `times` calls of `method` without answering.

        With `after_delivery` the call takes effect first, like a message that was delivered
        but whose answer was lost.
        """
        self._queue_fault(method, _Fault(drop=True, after_delivery=after_delivery), times)

    def fail_for(
        self,
        seconds: float,
        *,
        status: int = 502,
        methods: Iterable[str] | None = None,
        timeout: bool = False,
        chats: Iterable[int] | None = None,
    ) -> None:
        """An outage: for `seconds` from now, calls of `methods` fail and take no effect.

        `methods` defaults to every method but getUpdates; `chats`, if given, limits the
        outage to calls naming one of those chat ids (one group's server having trouble).
        Calls answer HTTP `status` with Telegram-like JSON ("Bad Gateway" for 502) or, with
        `timeout`, get no answer until the client gives up (its read timeout) and closes the
        connection. Either way they are
        recorded in `requests` (answered ones in `errors` too). A new window replaces the last.
        """
        names = None if methods is None else _method_names(methods)
        only = None if chats is None else frozenset(chats)
        self._outage = _Outage(time.monotonic() + seconds, status, names, timeout, only)

    def outage_over(self) -> None:
        """End the fail_for window now; calls already left unanswered stay unanswered."""
        self._outage = None

    def _queue_fault(self, method: str, fault: _Fault, times: int) -> None:
        self._faults[method.lower()].extend([fault] * times)

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method.lower())
        return queue.popleft() if queue else None

    # HTTP

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        try:
            params, files = await read_params(request)
        except ApiError as error:
            return self._error(name, error)
        found = methods.lookup(name)
        method = found[0] if found else name
        self.requests.append(ApiCall(method, {**params, **files}))
        self._changed.fire()
        if request.match_info["token"] != self.token:
            return self._error(method, unauthorized())
        if found is None:
            return self._error(method, not_found())
        return await self._run(request, method, found[1], methods.Call(params, files))

    async def _run(
        self, request: web.Request, method: str, handler: methods.Handler, call: methods.Call
    ) -> web.StreamResponse:
        outage = self._outage
        if outage and outage.covers(method, call.params.get("chat_id")):
            return await self._suffer(request, method, outage)
        fault = self._take_fault(method) or _Fault()
        if fault.drop and not fault.after_delivery:
            return _drop(request)
        try:
            if fault.error:
                raise fault.error
            result = await handler(self, call)
        except ApiError as error:
            return self._error(method, error)
        if fault.drop:
            return _drop(request)
        return web.json_response({"ok": True, "result": result})

    async def _suffer(
        self, request: web.Request, method: str, outage: _Outage
    ) -> web.StreamResponse:
        if not outage.timeout:
            return self._error(method, injected(outage.status, None, None))
        # The client's read timeout ends the wait: aiohttp cancels a handler whose client left.
        while not self._closing:
            await self._changed.wait(_HANG_POLL_SECONDS)
        return _drop(request)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(unauthorized().payload(), status=401)
        stored = self.file_at(request.match_info["path"])
        if stored is None:
            return web.json_response(not_found().payload(), status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _error(self, method: str, error: ApiError) -> web.Response:
        record = ErrorRecord(method, error.status, error.description, error.retry_after)
        self.errors.append(record)
        self._changed.fire()
        return web.json_response(error.payload(), status=error.status)


def _method_names(names: Iterable[str]) -> frozenset[str]:
    """Lower-cased names of known methods; a typo raises instead of silently never matching."""
    listed = list(names)
    unknown = [name for name in listed if methods.lookup(name) is None]
    if unknown:
        raise ValueError(f"the fake implements no methods {unknown}")
    return frozenset(name.lower() for name in listed)


def _drop(request: web.Request) -> web.StreamResponse:
    if request.transport is not None:
        request.transport.abort()
    return web.Response()


class ServerThread:
    """A FakeBotApi serving from its own event loop in a daemon thread, for sync tests.

    Reach the server only through `call`, which runs on the server's loop.
    """

    def __init__(
        self, server: FakeBotApi, loop: asyncio.AbstractEventLoop, thread: threading.Thread
    ) -> None:
        self.server = server
        self._loop = loop
        self._thread = thread

    @property
    def url(self) -> str:
        """The server's URL."""
        return self.server.url

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn(*args, **kwargs)` on the server's loop, awaiting it if it is a coroutine."""

        async def run() -> Any:
            result = fn(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result()

    def stop(self) -> None:
        """Stop the server, its loop and its thread."""
        if self._loop.is_closed():
            return
        try:
            self.call(self.server.stop)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(_THREAD_JOIN_SECONDS)
            self._loop.close()

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
