"""A server that answers every HTTP request at once with the same stored bytes: the floor of a client's latency.

    python bench/canned_server.py PORT

Whatever the request, the answer is `200` with the JSON body last stored by `PUT /canned` (whose own answer is an
empty 204). No routing, no parsing beyond the request's framing (headers, Content-Length): what a client measures
against it is its own cost (building the request, the socket round trip, parsing the answer), the time no server
can save it. Run in its own process, as real servers are, so it does not share the client's interpreter.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

CONTROL_TARGET = b"/canned"
HEADER_END = b"\r\n\r\n"


class CannedAnswer:
    """The stored answer, as the bytes of a whole HTTP response."""

    def __init__(self) -> None:
        self.response = self.build(b"{}")

    @staticmethod
    def build(body: bytes) -> bytes:
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        return head.encode() + body


class CannedProtocol(asyncio.Protocol):
    def __init__(self, answer: CannedAnswer) -> None:
        self.answer = answer
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(HEADER_END)
            if end < 0:
                return
            head = self.buffer[:end]
            length = _content_length(head)
            total = end + len(HEADER_END) + length
            if len(self.buffer) < total:
                return
            body = self.buffer[end + len(HEADER_END) : total]
            self.buffer = self.buffer[total:]
            self.answer_request(head, body)

    def answer_request(self, head: bytes, body: bytes) -> None:
        method, _, rest = head.partition(b" ")
        target = rest.partition(b" ")[0]
        if method == b"PUT" and target == CONTROL_TARGET:
            self.answer.response = CannedAnswer.build(body)
            self.transport.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            return
        self.transport.write(self.answer.response)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


async def serve(port: int) -> None:
    answer = CannedAnswer()
    server = await asyncio.get_running_loop().create_server(lambda: CannedProtocol(answer), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    port = int(sys.argv[1])
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(port))
    else:
        uvloop.run(serve(port))


if __name__ == "__main__":
    main()
