# syntax=docker/dockerfile:1
# Two images from one file:
#   docker build -t inventory-bot .                 the bot (the default, last stage)
#   docker build -t inventory-feed --target feed .  a simulated sales feed under websocketd
# compose.yaml runs the two together for a local trial.

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
# Every dependency ships a wheel for this platform: no compiler, no build layer to throw away.
# Time zones come from the tzdata wheel (the slim base has no /usr/share/zoneinfo).
RUN pip install --no-cache-dir . \
    && useradd --no-create-home --uid 10001 --shell /usr/sbin/nologin bot

# The feed as the field serves it: websocketd (from Debian) runs the generator once per
# connection and sends each line it prints as one text frame.
FROM base AS feed
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends websocketd \
    && rm -rf /var/lib/apt/lists/*
USER 10001
EXPOSE 8080
CMD ["websocketd", "--port=8080", "inventory-bot", "simulate", "--stdout", "--mode=realistic", "--rate=5"]

FROM base AS bot
RUN mkdir /data && chown 10001 /data
USER 10001
ENV DATABASE_PATH=/data/inventory.db \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=3000
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["inventory-bot", "health"]
CMD ["inventory-bot", "run"]
