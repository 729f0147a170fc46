"""The HTTP routes. ``create_app(worker, limits, model)`` builds them around a started
``InferenceWorker``; ``model`` is a callable returning the description ``/v1/models`` shows.

Every error is ``{"error": "<one line>"}``: 400 bad image or parameter, 413 over a limit (from the
header, before decoding), 503 with Retry-After while loading, when every slot is taken or when a
request ran out of memory, 504 past ``timeout``. A 500 would be a bug in ppir.

``POST /v1/restore`` answers ``image/png``: the restored image encoded as the command-line tools
write it (``encode_image``), so the bytes are those of the CLI's output file.
"""
import asyncio
import contextlib
import logging
import os
import time

import cv2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

from ..apps.backends.selection import one_line
from ..errors import PpirError
from ..utils.image_io import decode_image, encode_image
from .http_errors import ClientGone, HttpError, error_response, http_error_response
from .limits import check_declared_length, check_pixels, image_bytes, parse_options, read_body
from .metrics import ServeMetrics
from ..utils.out_of_memory import is_out_of_memory
from .worker import Job, QueueFull

log = logging.getLogger("ppir.serve")

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
LOADING_RETRY_SECONDS = 5
DISCONNECTED = "disconnected"  # the status label of requests whose client left


def create_app(worker, limits, model):
    metrics = ServeMetrics(worker)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await run_in_threadpool(worker.stop)  # after uvicorn's drain: finish what is queued

    app = FastAPI(title="ppir restoration", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(StarletteHTTPException)
    async def http_exception(request, exc):
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, exc):
        return error_response(400, "invalid request")

    @app.exception_handler(Exception)
    async def bug(request, exc):
        log.exception("internal error")  # a bug in ppir, not the client's fault: the traceback goes to the log
        return error_response(500, f"internal error: {one_line(exc)}")

    @app.get("/healthz")
    async def healthz():
        return {"status": "alive"}

    @app.get("/readyz")
    async def readyz():
        if worker.ready.is_set():
            return {"status": "ready"}
        if worker.load_error:
            return error_response(503, f"the model failed to load: {worker.load_error}")
        return error_response(503, "the model is loading", LOADING_RETRY_SECONDS)

    @app.get("/metrics")
    async def prometheus():
        return Response(metrics.render(), media_type=metrics.content_type)

    @app.get("/v1/models")
    async def models():
        return {"models": [model()], "limits": {"max_bytes": limits.max_bytes, "max_pixels": limits.max_pixels,
                                                 "max_queue": limits.max_queue, "timeout": limits.timeout}}

    @app.post("/v1/restore")
    async def restore(request: Request):
        start = time.perf_counter()
        try:
            png, pixels = await _restore(request, worker, limits)
            response, status = Response(png, media_type="image/png"), 200
            metrics.restored(pixels)
        except HttpError as err:
            response, status = http_error_response(err), err.status
        except ClientGone:
            response, status = error_response(499, "client disconnected"), DISCONNECTED
        except Exception:
            metrics.observe(500, time.perf_counter() - start)  # a bug: counted, then answered by bug()
            raise
        metrics.observe(status, time.perf_counter() - start)
        return response

    @app.get("/")
    async def page():
        return FileResponse(os.path.join(STATIC, "index.html"))

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _restore(request, worker, limits):
    """(PNG bytes, input pixels) for one request, or HttpError / ClientGone."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.timeout
    if not worker.ready.is_set():
        raise HttpError(503, "the model is loading; try again shortly", LOADING_RETRY_SECONDS)
    options = parse_options(request.query_params, worker.check_tile)
    check_declared_length(request.headers, limits)
    try:
        worker.admit()
    except QueueFull:
        raise HttpError(503, f"all {limits.max_queue} request slots are taken; try again shortly",
                        worker.retry_after()) from None
    try:
        body = await _before(deadline, read_body(request, limits))
        data = await image_bytes(body, request.headers)
        del body
        check_pixels(data, limits)
        image = await _before(deadline, run_in_threadpool(_decode, data, limits.max_pixels))
        del data
        height, width = image.shape[:2]
        if width * height > limits.max_pixels:  # the header and the decoder disagree
            raise HttpError(413, f"image of {width}x{height} pixels is over the limit of {limits.max_pixels} pixels")
        job = worker.submit(Job(image, options.self_ensemble, options.tile))
        del image
        restored = await _wait(job, request, worker, deadline, limits.timeout)
        return await run_in_threadpool(_encode, restored), width * height
    finally:
        worker.release()


async def _before(deadline, awaitable):
    try:
        return await asyncio.wait_for(awaitable, max(0.0, deadline - asyncio.get_running_loop().time()))
    except asyncio.TimeoutError:
        raise HttpError(504, "timed out before the image was received and decoded") from None


def _decode(data, max_pixels):
    try:
        return decode_image(data, "request body", max_pixels=max_pixels)
    except cv2.error as err:
        raise HttpError(400, f"request body: image codec error: {one_line(err)}") from None
    except PpirError as err:
        raise HttpError(400, one_line(err)) from None
    except MemoryError:
        raise HttpError(503, "out of memory decoding the image; try again later", LOADING_RETRY_SECONDS) from None


def _encode(restored):
    try:
        return encode_image(restored, ".png").tobytes()
    except MemoryError:
        raise HttpError(503, "out of memory encoding the result; try again later", LOADING_RETRY_SECONDS) from None


async def _wait(job, request, worker, deadline, timeout):
    """The restored array, waiting no longer than ``deadline`` and no longer than the client."""
    result = asyncio.wrap_future(job.future)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        left = max(0.0, deadline - asyncio.get_running_loop().time())
        done, _ = await asyncio.wait({result, gone}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if result in done:
        return _outcome(job, result.exception())
    worker.cancel(job)
    result.cancel()
    if gone in done:
        raise ClientGone()
    raise HttpError(504, f"not restored within the service's timeout of {timeout:g} s")


async def _disconnected(request):
    """Returns when the client closes the connection (the body has been read already)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


def _outcome(job, err):
    if err is None:
        return job.future.result()
    if is_out_of_memory(err):
        width, height = job.size
        raise HttpError(503, f"out of memory restoring a {width}x{height} image (memory was released); "
                             f"try again later or with ?tile=256", LOADING_RETRY_SECONDS)
    if isinstance(err, cv2.error):
        raise HttpError(400, f"image codec error: {one_line(err)}")
    if isinstance(err, PpirError):
        raise HttpError(400, one_line(err))
    raise err
