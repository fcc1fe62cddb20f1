"""A minimal server on the official MCP Python SDK (2.x) over stdio: one tool, ``ping``.

bench/stdio.py drives it with the SDK's own client (``stdio_client`` + ``ClientSession.call_tool``).
"""

from __future__ import annotations

import time

from mcp.server.mcpserver import MCPServer

server = MCPServer("bench")


@server.tool()
async def ping() -> dict[str, bool | int]:
    """Liveness: answers at once with the server's clock (the same data as deskbridge's PING)."""
    return {"pong": True, "time": time.time_ns() // 1_000_000}


if __name__ == "__main__":
    server.run("stdio")
