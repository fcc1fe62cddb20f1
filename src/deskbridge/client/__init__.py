"""Talk to a deskbridge backend from Python.

>>> async with await StdioClient.spawn("studio") as client:
...     await client.call("PING")
>>> client = await StdioClient.spawn("studio", resume=saved_cursor)  # replays what was missed, then live
>>> async with await connect("http://127.0.0.1:8001", token=token) as client:  # WebSocket, else polling
...     await client.call("PING")
"""

from deskbridge.client.connect import connect
from deskbridge.client.polling import PollingClient
from deskbridge.client.remote import Backoff, Refused, RemoteClient
from deskbridge.client.session import (
    ClientError,
    ConnectionLost,
    Cursor,
    OperationFailed,
    OperationHandle,
    RemoteError,
    Session,
)
from deskbridge.client.stdio import BackendStartError, StdioClient
from deskbridge.client.sync import SyncClient, SyncOperation
from deskbridge.client.websocket import WebSocketClient

__all__ = [
    "BackendStartError",
    "Backoff",
    "ClientError",
    "ConnectionLost",
    "Cursor",
    "OperationFailed",
    "OperationHandle",
    "PollingClient",
    "Refused",
    "RemoteClient",
    "RemoteError",
    "Session",
    "StdioClient",
    "SyncClient",
    "SyncOperation",
    "WebSocketClient",
    "connect",
]
