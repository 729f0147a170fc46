"""Shared helpers for the apps/download tests (no tests here): a real HTTP server on 127.0.0.1.

``LocalFileServer`` serves byte strings registered per path and counts the requests it gets.
Modes per path: 'ok' (whole body), 'short' (announces the full Content-Length, sends half, closes:
an interrupted transfer), 'short-once' (short on the first request, whole afterwards).
Unknown paths answer 404.
"""
import http.server
import threading
from collections import Counter


class LocalFileServer:
    def __init__(self):
        self.files = {}
        self.requests = Counter()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests[self.path] += 1
                if self.path not in server.files:
                    self.send_error(404, "Not Found")
                    return
                body, mode = server.files[self.path]
                short = mode == "short" or (mode == "short-once" and server.requests[self.path] == 1)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if short else body)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):  # keep test output clean
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self):
        host, port = self._httpd.server_address
        return f"http://{host}:{port}"

    def add(self, path, body, mode="ok"):
        self.files[path] = (body, mode)
        return self.base_url + path

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
