# The bot, run as a non-root user: its SQLite file on the /data volume, or PostgreSQL through
# DATABASE_URL (compose.yaml). Build: docker build -t followup-bot .
#
# The base image is pinned by digest, so that a rebuild gets the same system and Python. This
# digest was not looked up where this file was written (no image registry there): it is the
# one two unrelated public projects pin for this tag. A wrong digest fails the build with
# "manifest unknown"; it can never pull something else. To move to a newer base, run
#   docker buildx imagetools inspect python:3.11-slim-bookworm --format '{{json .Manifest.Digest}}'
# and write the result here (or pass --build-arg PYTHON_DIGEST=sha256:...).
ARG PYTHON_DIGEST=sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b
FROM python:3.11-slim-bookworm@${PYTHON_DIGEST}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////data/followup.sqlite

WORKDIR /app
# Dependencies first, exactly as locked: a change to the source does not reinstall them.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /app bot \
    && mkdir /data \
    && chown bot /data

USER 10001
VOLUME ["/data"]
# Healthy: the database answers and the bot polled Telegram in the last two minutes.
HEALTHCHECK --interval=60s --timeout=15s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "health"]
CMD ["python", "-m", "bot"]
