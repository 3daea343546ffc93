# Glassbox: docker build -t glassbox . && docker run -p 8000:8000 -e GLASSBOX_TOKEN=<secret> glassbox
# The container listens on 0.0.0.0, so set GLASSBOX_TOKEN (without it the server warns at start): every API
# request and WebSocket must then carry it — students open http://host:8000/?token=<secret> once (the page keeps
# it in a cookie), scripts send "Authorization: Bearer <secret>". Other limits: GLASSBOX_* settings, README.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 1000 glassbox
WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY app ./app
COPY templates ./templates
COPY static ./static
# Editable install: templates/ and static/ are served from /app, beside the packages.
RUN pip install -e . && chown -R glassbox:glassbox /app

USER glassbox
EXPOSE 8000
CMD ["glassbox", "serve", "--host", "0.0.0.0", "--port", "8000"]
