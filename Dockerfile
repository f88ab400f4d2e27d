# SMPLaT web app and worker. Build: docker build -t smplat .
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    SMPLAT_ENV=prod \
    PATH="/app/.venv/bin:$PATH"

RUN pip install --no-cache-dir uv==0.13.9 \
    && useradd --create-home --uid 10001 --user-group smplat

WORKDIR /app
# Dependencies first, for a cached layer that only changes with the lock file.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app ./app
COPY admin ./admin
COPY storefront ./storefront
COPY reports ./reports
COPY migrations ./migrations
RUN uv sync --frozen --no-dev && chown -R smplat:smplat /app

USER smplat
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
CMD ["smplat", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
