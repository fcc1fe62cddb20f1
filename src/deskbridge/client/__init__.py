"""Talk to a deskbridge backend from Python.

>>> async with await StdioClient.spawn("studio") as client:
...     await client.call("PING")
"""

from deskbridge.client.session import (
    ClientError,
    ConnectionLost,
    OperationFailed,
    OperationHandle,
    RemoteError,
    Session,
)
from deskbridge.client.stdio import BackendStartError, StdioClient
from deskbridge.client.sync import SyncClient, SyncOperation

__all__ = [
    "BackendStartError",
    "ClientError",
    "ConnectionLost",
    "OperationFailed",
    "OperationHandle",
    "RemoteError",
    "Session",
    "StdioClient",
    "SyncClient",
    "SyncOperation",
]
