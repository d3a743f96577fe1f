class ChatError(Exception):
    """A refusal the client is told about in an `error` frame; never a crash."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail
