"""A request body limit for the agent's API, as plain ASGI middleware."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """413 for a body over ``max_bytes``, by its Content-Length or, chunked, as it arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = JSONResponse(
            {"detail": f"request body over {self.max_bytes} bytes; the agent takes small requests only"},
            status_code=413,
        )
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await too_large(scope, receive, send)
            return
        seen = 0
        answered = False  # the 413 went out: whatever the app sends after it is dropped

        async def limited() -> Message:
            nonlocal seen, answered
            message = await receive()
            if message["type"] == "http.request" and not answered:
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    answered = True
                    await too_large(scope, receive, send)
                    return {"type": "http.disconnect"}  # the app stops reading: the client is gone to it
            return message

        async def sending(message: Message) -> None:
            if not answered:
                await send(message)

        await self.app(scope, limited, sending)
