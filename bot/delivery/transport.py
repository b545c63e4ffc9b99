"""The bot's HTTP client for the Bot API: PTB's request interface on aiohttp.

PTB's own client (httpx) took 0.7-1.2 ms of CPU per Bot API call here, against 0.3 ms for
aiohttp (both measured with the fake Bot API in the same process, its CPU included); httpcore
polls every pooled connection's socket on each request. With three calls per button press,
that was the biggest cost of an answer. PTB turns status codes and error payloads into its
exceptions itself; this class only moves bytes and maps transport failures to TimedOut and
NetworkError, as PTB's own client does.
"""

from __future__ import annotations

import warnings

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBUserWarning

Timeout = float | None


def calling_raw(*methods: str) -> None:
    """These Bot API methods are called with `do_api_request` on purpose (JSON in and out,
    no PTB objects built): PTB's advice to use its own methods for them is not shown.
    Called where the calls are set up, not at import: pytest resets warning filters for
    each test."""
    names = "|".join(methods)
    warnings.filterwarnings("ignore", rf"Please use 'Bot\.({names})'", PTBUserWarning)


class AiohttpRequest(BaseRequest):
    """One aiohttp connection pool with PTB's timeouts (seconds; None waits for ever).

    aiohttp has no write timeout: a request is written to the socket's buffer at once, and a
    peer that stops reading shows up as a read timeout.
    """

    def __init__(
        self,
        connection_pool_size: int,
        read_timeout: Timeout = 5.0,
        connect_timeout: Timeout = 5.0,
        pool_timeout: Timeout = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> Timeout:
        """The read timeout used when a call names none."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the connection pool (it needs the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the connection pool."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make one request; returns the status code and the body."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = self._timeout(read_timeout, connect_timeout, pool_timeout)
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's own timeouts are TimeoutErrors too
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc

    def _timeout(self, read: Timeout, connect: Timeout, pool: Timeout) -> aiohttp.ClientTimeout:
        read = self._read_timeout if read is BaseRequest.DEFAULT_NONE else read
        connect = self._connect_timeout if connect is BaseRequest.DEFAULT_NONE else connect
        pool = self._pool_timeout if pool is BaseRequest.DEFAULT_NONE else pool
        # aiohttp's `connect` covers waiting for a pooled connection and opening a new one.
        waiting = None if connect is None or pool is None else connect + pool
        return aiohttp.ClientTimeout(
            total=None, connect=waiting, sock_connect=connect, sock_read=read
        )


def _body(request_data: RequestData | None) -> dict[str, str] | aiohttp.FormData | None:
    """The parameters as a form, and as multipart when files go with them (as PTB sends them)."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
