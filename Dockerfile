# The bot with its embedded SQLite database on the /data volume, run as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////data/followup.sqlite

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app bot \
    && mkdir /data \
    && chown bot /data

USER 10001
VOLUME ["/data"]
CMD ["python", "-m", "bot"]
