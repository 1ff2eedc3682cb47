# One image for every Questrya process; docker-compose.yml picks the command per service.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Only what the package needs: never .env (secrets) or a local .venv.
COPY pyproject.toml README.md ./
COPY questrya ./questrya
COPY bots ./bots
RUN pip install . && useradd --create-home --uid 10001 questrya

USER questrya
WORKDIR /home/questrya
CMD ["questrya", "up"]
