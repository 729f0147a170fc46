"""The service's Prometheus metrics, in a registry of its own (``GET /metrics``):

* ``ppir_serve_requests_total{status}``: restoration requests by HTTP status (``disconnected``
  for clients that left before the answer),
* ``ppir_serve_request_seconds``: their latency (histogram),
* ``ppir_serve_queue_depth``: jobs waiting for the inference worker,
* ``ppir_serve_requests_in_flight``: requests holding a slot (uploading, waiting or restored),
* ``ppir_serve_images_restored_total`` and ``ppir_serve_megapixels_restored_total``,
* ``ppir_serve_ready``: 1 once the model is loaded, verified and warmed up.
"""
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class ServeMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, worker):
        self.registry = CollectorRegistry()
        self.requests = Counter("ppir_serve_requests", "Restoration requests by HTTP status", ["status"],
                                registry=self.registry)
        self.latency = Histogram("ppir_serve_request_seconds", "Restoration request latency (seconds)",
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.images = Counter("ppir_serve_images_restored", "Images restored", registry=self.registry)
        self.megapixels = Counter("ppir_serve_megapixels_restored", "Megapixels restored (input size)",
                                  registry=self.registry)
        Gauge("ppir_serve_queue_depth", "Jobs waiting for the inference worker",
              registry=self.registry).set_function(lambda: worker.queue_depth)
        Gauge("ppir_serve_requests_in_flight", "Requests holding a slot",
              registry=self.registry).set_function(lambda: worker.admitted)
        Gauge("ppir_serve_ready", "1 once the model is loaded, verified and warmed up",
              registry=self.registry).set_function(lambda: float(worker.ready.is_set()))

    def observe(self, status, seconds):
        self.requests.labels(status=str(status)).inc()
        self.latency.observe(seconds)

    def restored(self, pixels):
        self.images.inc()
        self.megapixels.inc(pixels / 1e6)

    def render(self):
        return generate_latest(self.registry)
