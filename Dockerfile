# syntax=docker/dockerfile:1.7
# The image of each Threadline service, built from the repository root (the uv workspace):
#   docker build --build-arg SERVICE=ingest --build-arg PORT=8080 -t threadline-ingest .
# SERVICE is ingest, router, zendesk-sync or reporter; PORT the port of its web server (/healthz),
# 8080, 6066, 6067 and 8080. skaffold.yaml builds the four with these arguments.
# The base images are arguments too, so that a registry mirror or a locally made image can stand
# in. Python 3.11 as in CI, at an exact patch release (add the digest as well where your registry
# mirror allows: python:3.11.14-slim-bookworm@sha256:...); uv at the Makefile's version.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.8

FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
RUN test -n "${SERVICE}" || { echo "--build-arg SERVICE= is required (ingest, router, zendesk-sync, reporter)" >&2; exit 1; }
# Third-party dependencies first, exactly as uv.lock pins them: this layer is reused until the
# lock changes. Every workspace member's pyproject.toml is needed to read the workspace.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/router/pyproject.toml services/router/
COPY services/zendesk-sync/pyproject.toml services/zendesk-sync/
COPY services/reporter/pyproject.toml services/reporter/
COPY sandboxes/pyproject.toml sandboxes/
COPY devstack/pyproject.toml devstack/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "threadline-${SERVICE}"
# Then the code: threadline-common and the service, installed as packages (not editable). The
# service's command (its __main__, as in a local run) is threadline-service in every image.
COPY libs/common libs/common
COPY services/${SERVICE} services/${SERVICE}
# The router's threadline-ops doctor checks the reporter's templates with the reporter's own code.
COPY services/reporter services/reporter
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "threadline-${SERVICE}" \
    && ln -s "threadline-${SERVICE}" /app/.venv/bin/threadline-service

FROM ${PYTHON_IMAGE}
ARG SERVICE
ARG PORT=8080
LABEL org.opencontainers.image.title="threadline-${SERVICE}" \
      org.opencontainers.image.description="Threadline ${SERVICE}: /healthz /readyz /metrics on port ${PORT}"
RUN groupadd --system --gid 10001 threadline \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin threadline
COPY --from=build /app/.venv /app/.venv
# The topic contracts and JSON Schemas: read at run time (and by the chart's topic Job). The
# reporter's Kibana saved objects (threadline_reporter/kibana/threadline.ndjson) are in its package.
COPY schemas /app/schemas
# The service listens on the port EXPOSE and HEALTHCHECK name, whichever service it is (each reads
# only its own variable; the reporter's local default would be 6068).
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    THREADLINE_SCHEMAS_DIR=/app/schemas \
    THREADLINE_WEB_PORT=${PORT} \
    THREADLINE_INGEST_PORT=${PORT} \
    THREADLINE_ROUTER_WEB_PORT=${PORT} \
    THREADLINE_ZENDESK_SYNC_WEB_PORT=${PORT} \
    THREADLINE_REPORTER_WEB_PORT=${PORT}
WORKDIR /app
USER 10001:10001
EXPOSE ${PORT}
# For `docker run`; Kubernetes uses the chart's probes on the same path.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['THREADLINE_WEB_PORT'], timeout=4)"]
ENTRYPOINT ["threadline-service"]
