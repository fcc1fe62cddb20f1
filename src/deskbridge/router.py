"""Commands in, responses out: validation, dispatch, and errors that never kill.

A handler is a typed function. Its first parameter's annotation (a
``msgspec.Struct`` usually) is the payload's schema, checked before the
handler runs; its return annotation documents ``data``. ``async def``
handlers run on the event loop, plain ``def`` handlers in worker threads
(they may block), and every command runs concurrently with the others. A
plain handler registered ``inline=True`` promises never to block and runs
directly on the loop: no thread hop, no coroutine, for the cheapest commands.
One whose work is cheap only most of the time (a page read from SQLite)
raises :class:`~deskbridge.store.WouldBlock` before it changes anything when
it is not, and runs again in a worker thread.

A success answer is sent only once the events its command raised are stored
(:class:`~deskbridge.events.Raised` tracks them): if the event log cannot
store them, the answer is ``EVENTS_NOT_STORED`` instead, so a client that was
told "done" always finds the command's events.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor
from functools import cached_property, partial
from typing import Any, TypedDict, TypeVar, Unpack, get_type_hints

import msgspec

from deskbridge import payloads, protocol
from deskbridge.caller import current as current_caller
from deskbridge.errors import CommandError, ErrorCode
from deskbridge.events import RAISED, EventLog, Raised
from deskbridge.operations import Operation
from deskbridge.roles import EVERYONE, AccessPolicy
from deskbridge.store import WouldBlock

log = logging.getLogger("deskbridge.router")

Reply = Callable[[bytes], None]
F = TypeVar("F", bound=Callable[..., Any])

_NO_PAYLOAD: Any = dict[str, Any]


class RouteOptions(TypedDict, total=False):
    """How a handler is registered, beyond its command type (each with its default when left out)."""

    inline: bool
    """A plain handler that never blocks runs on the loop (default False)."""
    data: Any
    """What ``data`` decodes as, for a handler that returns pre-encoded JSON (default: its return annotation)."""
    result: Any
    """An operation's result type, for the schema (default Any)."""
    progress: Any
    """An operation's progress fields, for the schema (default Any)."""


class Route(msgspec.Struct, frozen=True, dict=True):
    """One command type: its handler and what it accepts and returns.

    The types are read from the handler's annotations, and the payload's decoder
    built, when first needed (the command's first arrival, or the schema): for
    the studio's forty commands that is ~10 ms less before ``BACKEND_READY``.
    """

    type: str
    handler: Callable[..., Any]
    payload_param: str | None
    is_async: bool
    inline: bool
    doc: str
    declared_data: Any = None
    """What ``data`` decodes as, when the handler returns JSON it did not build from that type (a
    ``msgspec.Raw`` SQLite wrote): the schema shows it instead of the return annotation."""
    result_type: Any = Any
    """An operation's result (its terminal event's ``result``), for the schema."""
    progress_type: Any = Any
    """The fields an operation's progress events carry, for the schema."""

    @classmethod
    def of(cls, command_type: str, handler: Callable[..., Any], **options: Unpack[RouteOptions]) -> Route:
        params = [
            p
            for p in inspect.signature(handler).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(params) > 1:
            raise TypeError(f"handler for {command_type} takes at most one parameter, the payload")
        return cls(
            type=command_type,
            handler=handler,
            payload_param=params[0].name if params else None,
            is_async=inspect.iscoroutinefunction(handler),
            inline=options.get("inline", False),
            doc=inspect.cleandoc(handler.__doc__ or ""),
            declared_data=options.get("data"),
            result_type=options.get("result", Any),
            progress_type=options.get("progress", Any),
        )

    @cached_property
    def _hints(self) -> dict[str, Any]:
        return get_type_hints(self.handler)

    @cached_property
    def payload_type(self) -> Any:
        """Held strict (payloads.py) when first read: by the schema, or the command's first arrival."""
        payload_type = _NO_PAYLOAD if self.payload_param is None else self._hints.get(self.payload_param, Any)
        payloads.require_strict(self.type, payload_type)
        return payload_type

    @cached_property
    def data_type(self) -> Any:
        return self._hints.get("return", Any) if self.declared_data is None else self.declared_data

    @cached_property
    def decoder(self) -> msgspec.json.Decoder[Any]:
        return msgspec.json.Decoder(self.payload_type)

    def call(self, payload: Any) -> Any:
        return self.handler() if self.payload_param is None else self.handler(payload)


class Commands:
    """A table of routes that an app (or the core) fills with a decorator."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}

    def command(self, command_type: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register a handler; one that returns an Operation names its ``result`` and ``progress`` types, one
        that returns pre-encoded JSON the type its ``data`` decodes as."""

        def register(handler: F) -> F:
            self.add(command_type, handler, **options)
            return handler

        return register

    def add(self, command_type: str, handler: Callable[..., Any], **options: Unpack[RouteOptions]) -> None:
        if command_type in self._routes:
            raise ValueError(f"command {command_type} is registered twice")
        if options.get("inline") and inspect.iscoroutinefunction(handler):
            raise TypeError(f"{command_type}: inline is for plain functions; async handlers already run on the loop")
        self._routes[command_type] = Route.of(command_type, handler, **options)

    def merge(self, other: Commands) -> None:
        for route in other:
            if route.type in self._routes:
                raise ValueError(f"command {route.type} is registered twice")
            self._routes[route.type] = route

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes.values())

    def __len__(self) -> int:
        return len(self._routes)

    def routes(self) -> Mapping[str, Route]:
        return self._routes


class Router:
    """Dispatches decoded lines to routes and writes exactly one response per command."""

    def __init__(
        self,
        commands: Commands,
        loop: asyncio.AbstractEventLoop,
        executor: Executor,
        events: EventLog,
        *,
        max_line: int = protocol.DEFAULT_MAX_LINE,
        access: AccessPolicy = EVERYONE,
    ) -> None:
        self.routes = commands.routes()
        self.access = access
        """Which commands a caller's role may run, asked before every handler."""
        self._events = events
        self.max_line = max_line
        self._loop = loop
        self._executor = executor
        self._pending: set[asyncio.Future[Any]] = set()
        self.closing = False

    @property
    def pending(self) -> int:
        return len(self._pending)

    def dispatch(self, item: bytes | protocol.LineTooLong, reply: Reply) -> None:
        """Handle one framed line; ``reply`` is called exactly once, maybe later."""
        if isinstance(item, protocol.LineTooLong):
            reply(protocol.failure(None, ErrorCode.MESSAGE_TOO_LARGE, f"line longer than {self.max_line} bytes"))
            return
        try:
            command = protocol.decode_command(item)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            rejected = protocol.parse_command(item)
            assert isinstance(rejected, protocol.Rejected)
            reply(rejected.response)
            return
        self.handle(command, reply)

    def handle(self, command: protocol.Command, reply: Reply) -> None:
        if self.closing:
            reply(protocol.failure(command.id, ErrorCode.SHUTTING_DOWN, "the backend is shutting down"))
            return
        route = self.routes.get(command.type)
        if route is None:
            unknown = self._unknown(command.type)
            reply(protocol.failure(command.id, unknown.code, unknown.message, unknown.details))
            return
        try:
            self.access.check(command.type, current_caller().role)
        except CommandError as exc:
            reply(protocol.failure(command.id, exc.code, exc.message, exc.details))
            return
        try:
            payload = route.decoder.decode(command.payload)
        except msgspec.ValidationError as exc:
            message, details = payloads.invalid(exc, route.payload_type)
            reply(protocol.failure(command.id, ErrorCode.INVALID_PAYLOAD, message, details))
            return
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            reply(protocol.failure(command.id, ErrorCode.PARSE_ERROR, f"payload is not valid JSON: {exc}"))
            return
        except RecursionError:
            reply(protocol.failure(command.id, ErrorCode.PARSE_ERROR, "payload is nested too deeply"))
            return
        if route.inline:
            self._call_inline(route, command, payload, reply)
        else:
            self._start(route, command, payload, reply)

    def _start(self, route: Route, command: protocol.Command, payload: Any, reply: Reply) -> None:
        """Run the handler as a task (async) or in a worker thread; it answers when done."""
        raised = Raised()
        context = contextvars.copy_context()
        context.run(RAISED.set, raised)
        future: asyncio.Future[Any]
        if route.is_async:
            future = self._loop.create_task(route.call(payload), context=context)
        else:
            future = self._loop.run_in_executor(self._executor, context.run, route.call, payload)
        self._pending.add(future)
        future.add_done_callback(partial(self._on_done, command, reply, raised))

    def _unknown(self, command_type: str) -> CommandError:
        """UNKNOWN_COMMAND with the command the client most likely meant (``get_accounts``: GET_ACCOUNTS)."""
        message = f"unknown command type {command_type!r}"
        suggestion = payloads.closest(command_type, self.routes)
        if suggestion is None:
            return CommandError(ErrorCode.UNKNOWN_COMMAND, message)
        message += f"; did you mean {suggestion}?"
        return CommandError(ErrorCode.UNKNOWN_COMMAND, message, {"did_you_mean": suggestion})

    def _call_inline(self, route: Route, command: protocol.Command, payload: Any, reply: Reply) -> None:
        """On the loop, synchronously: what it raised is what the log was given meanwhile (no context to set)."""
        events = self._events
        seq, refused = events.last_seq, events.refused
        try:
            result = route.call(payload)
        except WouldBlock:
            self._start(route, command, payload, reply)
            return
        except Exception as exc:
            self._fail(command, reply, exc)
            return
        raised = None
        if events.last_seq != seq or events.refused != refused:
            raised = Raised()
            raised.last_seq, raised.refused = events.last_seq, events.refused - refused
        self._respond(command, reply, result, raised)

    async def call(self, command_type: str, payload: Any = None) -> Any:
        """Run a command from inside another one (a command that forwards others, as the guardian's
        ``DESKTOP_COMMAND``): its payload checked as on the wire, its data returned, its
        :class:`CommandError` raised; an operation it starts is launched and its start data returned.
        The events it raises count as the calling command's."""
        route = self.routes.get(command_type)
        if route is None:
            raise self._unknown(command_type)
        self.access.check(command_type, current_caller().role)
        try:
            value = msgspec.convert({} if payload is None else payload, route.payload_type)
        except msgspec.ValidationError as exc:
            message, details = payloads.invalid(exc, route.payload_type)
            raise CommandError(ErrorCode.INVALID_PAYLOAD, message, details) from None
        result = await (route.call(value) if route.is_async else self._call_plain(route, value))
        if isinstance(result, Operation):
            result.launch()
            return result.started_data()
        return result

    async def _call_plain(self, route: Route, value: Any) -> Any:
        if route.inline:
            try:
                return route.call(value)
            except WouldBlock:
                pass
        run = contextvars.copy_context().run
        return await self._loop.run_in_executor(self._executor, run, route.call, value)

    async def drain(self, timeout: float) -> None:
        """Wait for the commands under way, at most ``timeout`` seconds, then cancel the rest."""
        if self._pending:
            _, still = await asyncio.wait(list(self._pending), timeout=timeout)
            for future in still:
                future.cancel()
            if still:
                await asyncio.wait(still, timeout=0.2)

    def _on_done(self, command: protocol.Command, reply: Reply, raised: Raised, future: asyncio.Future[Any]) -> None:
        self._pending.discard(future)
        if future.cancelled():
            reply(protocol.failure(command.id, ErrorCode.SHUTTING_DOWN, "cancelled: the backend is shutting down"))
            return
        exc = future.exception()
        if exc is not None:
            self._fail(command, reply, exc)
        else:
            self._respond(command, reply, future.result(), raised)

    def _respond(self, command: protocol.Command, reply: Reply, data: Any, raised: Raised | None) -> None:
        operation = data if isinstance(data, Operation) else None
        if raised is not None and operation is None:
            unstored = self._unstored(raised)
            if unstored is not None:
                reply(protocol.failure(command.id, ErrorCode.EVENTS_NOT_STORED, f"{command.type} ran, but {unstored}"))
                return
        try:
            body = protocol.success(command.id, command.type, operation.started_data() if operation else data)
        except (TypeError, ValueError, NotImplementedError, msgspec.EncodeError) as exc:
            log.error("%s returned data that cannot be encoded", command.type, exc_info=exc)
            reply(
                protocol.failure(command.id, ErrorCode.INTERNAL_ERROR, f"internal error: response not encodable: {exc}")
            )
            return
        reply(body)
        if operation is not None:
            operation.launch()

    def _unstored(self, raised: Raised) -> str | None:
        """Why the events ``raised`` names are not all stored, or None once they are (committing them now)."""
        events = self._events
        if not raised.refused and raised.last_seq > events.committed_seq:
            events.flush()
        if not raised.refused and raised.last_seq <= events.committed_seq:
            return None
        why = events.why_held()
        if raised.refused:
            return f"{raised.refused} of the events it raised were dropped: {why}"
        return f"the events it raised are not stored: {why}"

    def _fail(self, command: protocol.Command, reply: Reply, exc: BaseException) -> None:
        if isinstance(exc, CommandError):
            reply(protocol.failure(command.id, exc.code, exc.message, exc.details))
            return
        log.error("%s failed", command.type, exc_info=exc)
        reply(
            protocol.failure(
                command.id,
                ErrorCode.INTERNAL_ERROR,
                f"internal error in {command.type}: {type(exc).__name__}: {exc}",
            )
        )
