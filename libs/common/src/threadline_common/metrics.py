"""The /metrics page of the Faust services (router, zendesk-sync): Prometheus text of one registry.

Each app has its own `CollectorRegistry` (not prometheus_client's global one), so a test can
run several apps in one process and every page shows only its own app's numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest

if TYPE_CHECKING:
    import faust

# The Prometheus text format every scraper reads (what the ServiceMonitors ask for).
CONTENT_TYPE = "text/plain; version=0.0.4"


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


def add_metrics_page(app: faust.App, registry: CollectorRegistry, path: str = "/metrics") -> None:
    """Serve `registry` on the app's web server at `path`."""
    # Imported here: threadline_common does not depend on Faust; only Faust apps call this.
    from faust.web import Request, Response, View

    @app.page(path)
    class MetricsPage(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(exposition(registry), content_type=CONTENT_TYPE)
