"""The Python ceiling: a plain `websockets` server that broadcasts each text frame to its room.

    python -m bench.baselines.raw_websockets PORT
"""

import asyncio
import sys

from websockets.asyncio.server import broadcast, serve

rooms: dict[str, set] = {}


async def handler(ws):
    room = rooms.setdefault(ws.request.path, set())
    room.add(ws)
    try:
        async for text in ws:
            broadcast(room, text)
    finally:
        room.discard(ws)


async def main(port: int):
    async with serve(handler, "127.0.0.1", port, max_queue=None):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
