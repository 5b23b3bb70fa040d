# syntax=docker/dockerfile:1
# Two images from one file:
#   docker build --target rasa -t bokji-rasa .   # Rasa 3.6 server (Python 3.10), model trained at build time
#   docker build --target app  -t bokji-app  .   # web app (8000) and action server (5055), Python 3.11
# Production with replicas, PostgreSQL, Redis, Weaviate, Ollama and nginx: deploy/compose.yaml (docs/scaling.md).
# Run: bokji-app twice (`python -m channels` and `python -m actions`) plus bokji-rasa, with
#   BOKJI_ACTION_URL=http://actions:5055/webhook on rasa, and BOKJI_RASA_URL=http://rasa:5005 and
#   BOKJI_ACTIONS_URL=http://actions:5055 (health checks, streamed answers) on the web app.
# Secrets (the same values in every container that names them; e.g. `openssl rand -base64 32`):
#   BOKJI_RASA_TOKEN     rasa (its --auth-token) and the web app (tracker read)
#   BOKJI_ACTIONS_TOKEN  rasa (endpoints.yml sends it), the action server (refuses without it: it will not start
#                        without one) and the web app (streams, suggestions, the admin's test box)
# Only the web app's port 8000 is published (behind the reverse proxy). Rasa (5005) and the action server
# (5055) listen on the containers' private network only: never publish them (`-p`/`ports:`) and never put them
# on a network the public can reach. Rasa's API reads and rewrites any conversation given its token, and its
# REST webhook (/webhooks/rest/webhook) answers anyone who reaches the port.

FROM python:3.10-slim AS rasa
ENV PYTHONPATH=/srv RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /srv
COPY requirements/rasa.lock requirements/rasa.lock
RUN python -m pip install --no-cache-dir -r requirements/rasa.lock
# The tokenizer shares normalization and analysis with knowledge/ (these two light modules only).
COPY knowledge/__init__.py knowledge/
COPY knowledge/korean/ knowledge/korean/
COPY knowledge/seed/user_dict.tsv knowledge/seed/user_dict.tsv
# Rasa's log lines in our shape (bot/logging.yml): the formatter and the masking, standard library only.
COPY knowledge/rules/__init__.py knowledge/rules/privacy.py knowledge/rules/
COPY bokji/__init__.py bokji/logging_setup.py bokji/
COPY bot/ bot/
RUN cd bot && rasa train --fixed-model-name bokji --out models
WORKDIR /srv/bot
RUN useradd --system --home /srv bokji && chown -R bokji /srv
USER bokji
# 0.0.0.0 inside the container so the web app and the action server reach it over the private network; 5005 is
# not EXPOSEd and must not be published. The shell form expands the token from the environment at start.
CMD ["sh", "-c", "test -n \"$BOKJI_RASA_TOKEN\" || { echo 'set BOKJI_RASA_TOKEN' >&2; exit 1; }; \
     exec rasa run --enable-api --auth-token=\"$BOKJI_RASA_TOKEN\" --interface 0.0.0.0 --port 5005 --model models \
     --endpoints endpoints.yml --credentials credentials.yml --logging-config-file logging.yml"]

FROM python:3.11-slim AS app
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BOKJI_WEB_HOST=0.0.0.0 BOKJI_ACTIONS_HOST=0.0.0.0 BOKJI_DATA_DIR=/srv/var
WORKDIR /srv
COPY requirements/app.lock requirements/app.lock
RUN python -m pip install --no-cache-dir -r requirements/app.lock
COPY pyproject.toml README.md ./
COPY knowledge/ knowledge/
COPY actions/ actions/
COPY channels/ channels/
COPY bokji/ bokji/
COPY bot/__init__.py bot/__init__.py
RUN python -m pip install --no-cache-dir --no-deps --no-build-isolation -e . && bokji ingest
RUN useradd --system --home /srv bokji && chown -R bokji /srv
USER bokji
VOLUME ["/srv/var"]
# Only the web app is meant to be published; the action server (5055, `python -m actions`) stays on the private network.
EXPOSE 8000
CMD ["python", "-m", "channels"]
