"""The load generator's page-like client: it must count what the room page would show, once."""

import asyncio
import json

import bench.load
from bench.load import PageClient, Result


def message(seq: int, cid: str = "") -> dict:
    return {"seq": seq, "client_id": cid or f"c{seq}"}


def state(*seqs: int, has_more: bool = False) -> str:
    return json.dumps({"type": "room.state", "history": [message(s) for s in seqs], "has_more": has_more})


def client(sent: list[int]) -> tuple[PageClient, Result]:
    result = Result()
    page = PageClient("ws://x/ws/rooms/r/", None, "http://x", ws=None, result=result,
                      sent_at={f"c{seq}": 0.0 for seq in sent})
    page.take_state(state(7, 8), first=True)  # history from before the run counts for nothing
    return page, result


def test_a_jump_in_seq_fetches_the_gap_and_each_message_counts_once():
    page, result = client(sent=[9, 10, 11, 12])
    assert page._receive({"type": "message.new", "message": message(9)}) == []
    replies = page._receive({"type": "message.new", "message": message(12)})
    assert [json.loads(r) for r in replies] == [{"type": "history.fetch", "after": 9, "limit": 100}]
    assert page._receive({"type": "message.new", "message": message(12)}) == []  # a live repeat
    page._receive({"type": "history", "after": 9, "messages": [message(10), message(11), message(12)],
                   "has_more": False})
    assert result.delivered == 4 and page.seen == {9, 10, 11, 12} and page.last_seq == 12


def test_a_dropped_socket_reconnects_after_its_last_seq_and_takes_the_replay(monkeypatch):
    page, result = client(sent=[9, 10, 11])
    page._receive({"type": "message.new", "message": message(9)})
    asked = []

    class Socket:
        async def recv(self):
            return state(10, 11, has_more=True)

        async def send(self, frame):
            asked.append(json.loads(frame))

    async def open_client(url, cookie, origin):
        asked.append(url)
        return Socket()

    monkeypatch.setattr(bench.load, "open_client", open_client)
    page.first_retry_s = 0
    asyncio.run(page._reconnect(asyncio.Event()))
    assert asked == ["ws://x/ws/rooms/r/?after=9", {"type": "history.fetch", "after": 11, "limit": 100}]
    assert result.delivered == 3 and result.reconnects == 1 and page.gap_fetch_pending
