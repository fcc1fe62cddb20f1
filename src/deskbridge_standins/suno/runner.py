"""Serving the stand-in with uvicorn on a real loopback socket: in a thread, or as the process's main job.

The socket is bound before the server starts, so the base URL (with the port
the system chose for ``port=0``) is known at once. :class:`StandinServer` in
a ``with`` block is what test fixtures use; ``python -m
deskbridge_standins.suno --port 0`` prints one JSON line (base URL and
the endpoints to configure) and serves until it is terminated, which is what
the benchmark uses to keep the server out of the measuring process.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from types import TracebackType

import msgspec
import uvicorn

from deskbridge_standins.suno.allowance import AllowanceSettings
from deskbridge_standins.suno.app import create_app, standin_endpoints
from deskbridge_standins.suno.state import Settings, SunoState


class StandinServer:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clips: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "critical",
    ) -> None:
        self._socket = socket.create_server((host, port))
        bound_port = self._socket.getsockname()[1]
        self.base_url = f"http://{host}:{bound_port}"
        self.endpoints = standin_endpoints(self.base_url)
        self.state = SunoState(self.base_url, settings)
        self.state.add_clips([{} for _ in range(clips)], replace=True)
        self.app = create_app(self.state)
        config = uvicorn.Config(
            self.app, log_level=log_level, access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        """Serve in this thread until the process is told to stop (SIGINT/SIGTERM when it is the main thread)."""
        self._server.run(sockets=[self._socket])

    def start(self, timeout: float = 10.0) -> StandinServer:
        self._thread = threading.Thread(target=self.serve_forever, name="suno-standin", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the stand-in Suno did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._socket.close()

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="python -m deskbridge_standins.suno", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--clips", type=int, default=45, help="clips in the account's library")
    parser.add_argument("--audio-bytes", type=int, default=defaults.audio_bytes)
    parser.add_argument("--image-bytes", type=int, default=defaults.image_bytes)
    parser.add_argument("--token-lifetime", type=float, default=defaults.token_lifetime)
    parser.add_argument("--downloads-limit", type=int, default=AllowanceSettings().limit, help="per period")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    settings = Settings(audio_bytes=args.audio_bytes, image_bytes=args.image_bytes, token_lifetime=args.token_lifetime)
    server = StandinServer(settings, clips=args.clips, host=args.host, port=args.port, log_level=args.log_level)
    server.state.allowance.defaults = server.state.allowance.configure({"limit": args.downloads_limit})
    line = {"base_url": server.base_url, "endpoints": msgspec.to_builtins(server.endpoints)}
    print(json.dumps(line), flush=True)
    server.serve_forever()
