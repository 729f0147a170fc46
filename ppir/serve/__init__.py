"""Restoration over HTTP: one network served by FastAPI + uvicorn (``python applications/tools/serve.py``).

* ``app``: the routes (``POST /v1/restore``, ``/healthz``, ``/readyz``, ``/metrics``, ``/v1/models``,
  the page at ``/``) and the JSON error convention ``{"error": "<one line>"}``.
* ``worker``: the one inference thread per device, fed by a bounded queue of jobs.
* ``limits``: what a request may send (bytes, pixels read from the header, query parameters).
* ``metrics``: Prometheus counters, histogram and gauges.
* ``server``: loading the model beside a running uvicorn, SIGTERM drain, exit status.
* ``static/``: the page's own HTML, CSS and JavaScript (no external network).
"""
