# sopbot container image (docs/deployment.md, "In a container").
#
#   docker build -t sopbot .
#   docker run -d --name sopbot --env-file .env -v sopbot-data:/data sopbot          # polling
#   docker run -d --name sopbot --env-file .env -v sopbot-data:/data -p 8080:8080 sopbot web
#
# The state lives on the volume at /data (owned by the image's non-root user, uid 10001);
# flows and catalogs come with the image (mount your own flows over /app/flows, read-only).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY locales ./locales
COPY deploy/entrypoint.sh /usr/local/bin/sopbot-entrypoint

RUN pip install . \
    && chmod 0755 /usr/local/bin/sopbot-entrypoint \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin sopbot \
    && install -d -o sopbot -g sopbot -m 0700 /data

# The settings of the image; everything else comes from the environment (.env.example).
ENV SOPBOT_DATA_DIR=/data \
    SOPBOT_FLOWS_DIR=/app/flows \
    SOPBOT_LOCALES_DIR=/app/locales \
    SOPBOT_HTTP_PORT=8080 \
    SOPBOT_HTTP_HOST=0.0.0.0

USER sopbot
VOLUME ["/data"]
# /health and /metrics (sopbot run, SOPBOT_HTTP_PORT), or the webhook (sopbot web, PORT)
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["sopbot-entrypoint", "healthcheck"]

ENTRYPOINT ["sopbot-entrypoint"]
# As the README starts it: long polling. "web" for webhook mode; any sopbot command works.
CMD ["run"]
