"""The web door: WebSocket, HTTP commands, polling and long-polling on one port, with a token.

One module per seam: :mod:`.config` (settings), :mod:`.http` (plain ASGI
answers, the door's own refusal codes), :mod:`.security` (token, Origin, Host),
:mod:`.connection` (one WebSocket client) and :mod:`.outbox` (its bounded
queue), :mod:`.polling`, :mod:`.endpoints` (commands over HTTP),
:mod:`.openapi`, :mod:`.front` (the ASGI application), :mod:`.http_limits`
and :mod:`.server` (uvicorn around it).
"""
