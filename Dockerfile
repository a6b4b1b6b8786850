# The bot in a small image: non-root, the database on a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . \
    && useradd --create-home --uid 10001 bot \
    && mkdir /data \
    && chown bot /data

USER bot
ENV DATABASE_PATH=/data/inventory.db \
    HTTP_HOST=0.0.0.0
VOLUME ["/data"]
EXPOSE 3000
CMD ["inventory-bot", "run"]
