"""A real Daphne process answers WebSocket protocol errors with the protocol's close codes
(chatserver/websocket_closing.py), not a dropped connection the client reads as 1006."""

import os
import struct

import pytest

from tests.e2e.servers import login
from tests.e2e.test_faults import stalled_socket

pytestmark = pytest.mark.e2e


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final frame, masked as a client must."""
    length = len(payload)
    head = bytes([0x80 | opcode])
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", length)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close_code(raw) -> int | None:
    """Read server frames until the close frame; its status code, or None if the TCP connection
    ended without one."""
    raw.settimeout(10)
    buffer = b""

    def take(n: int) -> bytes:
        nonlocal buffer
        while len(buffer) < n:
            chunk = raw.recv(65536)
            if not chunk:
                raise EOFError
            buffer += chunk
        out, buffer = buffer[:n], buffer[n:]
        return out

    try:
        while True:
            first, second = take(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", take(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", take(8))[0]
            payload = take(length)
            if first & 0x0F == 0x8:
                return struct.unpack("!H", payload[:2])[0]
    except (EOFError, ConnectionResetError):
        return None


@pytest.mark.parametrize("frame, code", [
    (client_frame(0x1, b"x" * (1024 * 1024 + 1)), 1009),  # over Daphne's 1 MiB message limit
    (client_frame(0x1, b'{"type": "typing", "x": "\xff\xfe"}'), 1007),  # text that is not UTF-8
    (client_frame(0x3, b"reserved"), 1002),  # a reserved opcode
], ids=["too-big", "not-utf-8", "reserved-opcode"])
def test_protocol_errors_get_the_protocols_close_code(embedded_site, frame, code):
    port = embedded_site.start_daphne()
    raw = stalled_socket(port, login(port, "river", "demo-river-pass"))
    raw.sendall(frame)
    assert close_code(raw) == code
    raw.close()
