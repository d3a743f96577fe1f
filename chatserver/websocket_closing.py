"""Close a broken WebSocket connection with the protocol's own code instead of dropping it.

On a protocol error (a frame over Daphne's 1 MiB limit, text that is not UTF-8, a reserved opcode)
autobahn, under Daphne, drops the TCP connection at once (its `failByDrop` option, which Daphne
does not expose), so the client sees 1006 and cannot tell a bug of its own from a network fault.
With it off autobahn sends the close frame first: 1009 (too big), 1007 (not UTF-8), 1002
(protocol error), and drops the connection a second later if the client does not answer.
Frames under 1 MiB but over the application's 16 KiB cap never reach this: they get a
`frame_too_large` error frame and the socket stays open (docs/protocol.md).
"""

from daphne import ws_protocol

_factory_init = ws_protocol.WebSocketFactory.__init__


def _closing_factory_init(self, *args, **kwargs):
    _factory_init(self, *args, **kwargs)
    self.setProtocolOptions(failByDrop=False)


def install() -> None:
    """Call before Daphne builds its server (importing the ASGI application is early enough)."""
    ws_protocol.WebSocketFactory.__init__ = _closing_factory_init
