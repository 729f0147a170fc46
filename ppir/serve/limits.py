"""What one request may send, checked as early as possible:

* ``max_bytes``: the declared ``Content-Length`` is refused (413) before any byte is read; a body
  without one (chunked) is cut off with 413 as soon as it passes the limit.
* ``max_pixels``: the width and height come from the image's header (``image_size``), so an image
  that would decode too large is refused (413) before it is decoded. A format whose header ppir
  cannot read is refused with 400 (nothing is decoded blind).
* query parameters: ``self_ensemble`` (true/false) and ``tile`` (pixels, 0 = never tile); any
  other is a 400 naming the accepted ones.
* ``timeout``: seconds for the whole request (upload, queue, restoration), else 504.
"""
from dataclasses import dataclass

from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect

from ..utils.image_io import image_size
from .http_errors import ClientGone, HttpError

QUERY_PARAMETERS = ("self_ensemble", "tile")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
FORMATS = "PNG, JPEG, BMP, TIFF, WebP or PPM/PGM"
FIELD = "image"


@dataclass
class Limits:
    max_bytes: int = 50 << 20
    max_pixels: int = 36_000_000
    max_queue: int = 8
    timeout: float = 300.0

    def __post_init__(self):
        for name in ("max_bytes", "max_pixels", "max_queue", "timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"--{name} must be positive, got {getattr(self, name)}")


@dataclass
class Options:
    self_ensemble: bool = None
    tile: int = None


def parse_options(query, check_tile):
    """``Options`` from the query parameters; ``check_tile(tile)`` raises for a tile the
    network cannot use."""
    unknown = sorted(set(query) - set(QUERY_PARAMETERS))
    if unknown:
        raise HttpError(400, f"unknown query parameter {unknown[0]!r}; accepted: {', '.join(QUERY_PARAMETERS)}")
    options = Options()
    if "self_ensemble" in query:
        value = query["self_ensemble"].strip().lower()
        if value not in TRUE + FALSE:
            raise HttpError(400, f"self_ensemble must be true or false, got {query['self_ensemble']!r}")
        options.self_ensemble = value in TRUE
    if "tile" in query:
        try:
            options.tile = int(query["tile"])
        except ValueError:
            raise HttpError(400, f"tile must be a whole number of pixels (0: never tile), got {query['tile']!r}") from None
        try:
            check_tile(options.tile)
        except ValueError as err:
            raise HttpError(400, str(err)) from None
    return options


def check_declared_length(headers, limits):
    """413 from the ``Content-Length`` header alone, before reading the body."""
    declared = headers.get("content-length")
    if declared is None:
        return
    try:
        length = int(declared)
    except ValueError:
        raise HttpError(400, f"Content-Length is not a number: {declared!r}") from None
    if length > limits.max_bytes:
        raise HttpError(413, f"request body of {length} bytes is over the limit of {limits.max_bytes} bytes")


async def read_body(request, limits):
    """The request body, refused (413) as soon as it grows past ``max_bytes``."""
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_bytes:
                raise HttpError(413, f"request body is over the limit of {limits.max_bytes} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientGone() from None
    return b"".join(chunks)


async def image_bytes(body, headers):
    """The image file's bytes: the body itself, or its multipart field ``image``."""
    if headers.get("content-type", "").lower().startswith("multipart/form-data"):
        async def stream():
            yield body

        try:
            form = await MultiPartParser(headers, stream(), max_files=4, max_fields=16).parse()
        except MultiPartException as err:
            raise HttpError(400, f"malformed multipart body: {err.message}") from None
        part = form.get(FIELD)
        if part is None or isinstance(part, str):
            raise HttpError(400, f"multipart body has no file field {FIELD!r}")
        try:
            data = await part.read()
        finally:
            await form.close()
    else:
        data = body
    if not data:
        raise HttpError(400, f"empty body: send the image file as the request body or as the multipart field {FIELD!r}")
    return data


def check_pixels(data, limits):
    """(width, height) from the header; 400 if unreadable, 413 over ``max_pixels``."""
    size = image_size(data)
    if size is None:
        raise HttpError(400, f"not an image ppir can read: send {FORMATS}")
    width, height = size
    if width * height > limits.max_pixels:
        raise HttpError(413, f"image of {width}x{height} = {width * height} pixels is over the limit of "
                             f"{limits.max_pixels} pixels")
    return width, height
