# Multi-stage image: build a wheel set, then run as a non-root user. Migrates, then serves.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md piccolo_conf.py ./
COPY requirements/runtime.lock ./requirements/
COPY inventory ./inventory
COPY labels ./labels
COPY migrations ./migrations
# Exactly the locked runtime versions, checked by hash; no test tools and no embedded PostgreSQL in the image.
RUN pip install --no-cache-dir --upgrade pip \
 && pip wheel --no-cache-dir --require-hashes --wheel-dir /wheels -r requirements/runtime.lock \
 && pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN useradd --create-home --uid 10001 inventory
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
WORKDIR /app
USER inventory
EXPOSE 8000
# From the environment (never baked into the image): INVENTORY_SECRET_KEY; two database roles (README, "Database
# roles"): INVENTORY_MIGRATE_URL, the tables' owner, used only by `inventory migrate`, which grants the application
# role INVENTORY_APP_ROLE (inventory_app) what serving needs; DATABASE_URL, that application role, used by `serve`.
# Once on the server, as an administrator:
#   CREATE ROLE inventory_owner LOGIN PASSWORD '…';  CREATE ROLE inventory_app LOGIN PASSWORD '…';
#   CREATE DATABASE inventory OWNER inventory_owner;
# With only DATABASE_URL set, migrate and serve share one role, and serve warns if it owns the tables.
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=2).status == 200 else 1)"
CMD ["sh", "-c", "inventory migrate && exec inventory serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
