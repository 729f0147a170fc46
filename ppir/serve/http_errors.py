"""An HTTP error as the service answers it (a status, one line, and optionally Retry-After), and a
client that left."""
from starlette.responses import JSONResponse


class ClientGone(Exception):
    """The client closed the connection before its answer."""


class HttpError(Exception):
    def __init__(self, status, message, retry_after=None):
        super().__init__(message)
        self.status = status
        self.message = str(message).strip().splitlines()[0] if str(message).strip() else "error"
        self.retry_after = retry_after


def error_response(status, message, retry_after=None):
    """``{"error": "<one line>"}`` with ``status`` (and ``Retry-After`` in whole seconds)."""
    headers = {"Retry-After": str(max(1, int(round(retry_after))))} if retry_after is not None else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def http_error_response(err):
    return error_response(err.status, err.message, err.retry_after)
