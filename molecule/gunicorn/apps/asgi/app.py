"""A dependency-free ASGI app, for gunicorn's ASGI worker classes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ROUTES: dict[str, dict[str, str]] = {
    "/health": {"status": "ok"},
    "/data": {"message": "Microservice response"},
}


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """Answer /health and /data with JSON, anything else with 404."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    payload = ROUTES.get(scope["path"])
    status = 200 if payload is not None else 404
    body = json.dumps(payload if payload is not None else {"error": "not found"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
