"""Downloading released weights once into a local cache, never leaving a broken file behind.

Where things go: ``$PPIR_HOME`` (default ``~/.cache/ppir``); weights in ``<home>/weights/``.
A file enters the cache only when it is complete: it is streamed to a temporary file in the same
folder, its size is checked against Content-Length (and its sha256 when one is known), and only
then renamed into place. An interrupted or corrupt transfer is deleted and retried with backoff.

``PPIR_WEIGHTS_MIRROR`` replaces everything before the file name of every weight URL, e.g.
``http://intranet/ppir`` or ``file:///data/ppir-weights`` for machines without internet access.
"""
import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from tqdm import tqdm

from ..errors import PlaceError, PpirError
from .places import make_writable_folder

_CHUNK = 1 << 20
# HTTP statuses worth another try: the server may answer differently in a moment.
_TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}


class DownloadError(PpirError):
    """A file could not be fetched: offline, wrong URL, or the transfer kept failing."""


class _IncompleteDownload(Exception):
    """The transfer ended early or the bytes are wrong; worth another attempt."""


def ppir_home():
    return os.path.expanduser(os.environ.get("PPIR_HOME") or os.path.join("~", ".cache", "ppir"))


def cache_dir(kind):
    """``<PPIR_HOME>/<kind>``, created on demand (``kind`` is e.g. 'weights' or 'exported'); an
    unusable one is a one-line ``PlaceError`` naming PPIR_HOME."""
    path = os.path.join(ppir_home(), kind)
    try:
        return make_writable_folder(path, "cache folder")
    except PlaceError as exc:
        raise PlaceError(f"{exc}; set PPIR_HOME to a writable folder (the cache of weights and exports)") from None


def mirrored(url):
    """``url`` with its folder replaced by ``$PPIR_WEIGHTS_MIRROR`` when that is set."""
    mirror = os.environ.get("PPIR_WEIGHTS_MIRROR")
    if not mirror:
        return url
    return mirror.rstrip("/") + "/" + url_filename(url)


def url_filename(url):
    return os.path.basename(urllib.parse.urlparse(url).path)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def download_cached(url, filename=None, sha256=None, retries=3, backoff=0.5, timeout=30, progress=True):
    """Return the local path of ``url`` in the weights cache, downloading it first if needed.

    ``filename`` names the cached file (default: the URL's file name). A cached file is reused
    without any request; with ``sha256`` a cached file that does not match is fetched again.
    Raises ``DownloadError`` with one line naming the URL when every attempt fails.
    """
    url = mirrored(url)
    target = os.path.join(cache_dir("weights"), filename or url_filename(url))
    if os.path.isfile(target) and (sha256 is None or sha256_of(target) == sha256.lower()):
        return target
    reason = "no attempt made"
    for attempt in range(max(1, retries)):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            _fetch_to(url, target, sha256, timeout, progress)
            return target
        except urllib.error.HTTPError as err:
            reason = f"HTTP {err.code} {err.reason}"
            if err.code not in _TRANSIENT_HTTP:
                break
        except (OSError, _IncompleteDownload) as err:  # URLError, timeouts and resets are OSErrors
            reason = _describe(err)
    raise DownloadError(
        f"could not download {url} ({reason}); check the network connection, or fetch the file "
        f"yourself and pass it as weight_path (--weight_path)"
    )


def _describe(err):
    if isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError):
        return f"cannot reach the server: {err.reason}"
    return str(err) or type(err).__name__


def _fetch_to(url, target, sha256, timeout, progress):
    folder = os.path.dirname(target)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(target) + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            expected = int(expected) if expected is not None else None
            received = _stream(response, out, expected, os.path.basename(target), progress)
            out.flush()
            os.fsync(out.fileno())
        if expected is not None and received != expected:
            raise _IncompleteDownload(f"transfer ended after {received} of {expected} bytes")
        if sha256 is not None and sha256_of(tmp) != sha256.lower():
            raise _IncompleteDownload("downloaded file does not match its published sha256")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _stream(response, out, total, name, progress):
    received = 0
    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name, disable=not progress,
              leave=False) as bar:
        while True:
            try:
                block = response.read(_CHUNK)
            except (http.client.HTTPException, OSError) as err:  # e.g. IncompleteRead, reset
                raise _IncompleteDownload(f"transfer broke after {received} bytes: {type(err).__name__}") from err
            if not block:
                return received
            out.write(block)
            received += len(block)
            bar.update(len(block))
