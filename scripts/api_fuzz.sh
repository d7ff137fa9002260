#!/usr/bin/env bash
# Bounded schemathesis run against the real service (every check; 0 failures, 0 server errors), for CI.
# Usage: scripts/api_fuzz.sh postgresql://user@host:port  (a server where a throw-away database may be made)
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER_URL="${1:?a PostgreSQL server URL}"
DB="inventory_fuzz_$$"
PORT="${FUZZ_PORT:-8799}"
EXAMPLES="${FUZZ_MAX_EXAMPLES:-15}"
psql "$SERVER_URL/postgres" -qc "CREATE DATABASE $DB"
cleanup() {
    [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    psql "$SERVER_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
}
trap cleanup EXIT
export DATABASE_URL="$SERVER_URL/$DB" INVENTORY_JOBS=off
INVENTORY_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
export INVENTORY_SECRET_KEY
PASSWORD="$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
.venv/bin/inventory migrate
.venv/bin/inventory demo > /dev/null
echo "$PASSWORD" | .venv/bin/inventory user create fuzz-admin@clinic.test --role admin --password-stdin > /dev/null
.venv/bin/inventory serve --port "$PORT" > "/tmp/$DB.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$PORT/ready" > /dev/null 2>&1 && break; sleep 0.5; done
TOKEN="$(curl -fsS -X POST "http://127.0.0.1:$PORT/api/auth/token" -H 'Content-Type: application/json' \
    -d "{\"email\": \"fuzz-admin@clinic.test\", \"password\": \"$PASSWORD\"}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
# Signing out, resetting a password or changing a user would end the fuzzer's own sign-in half-way; those
# routes have their own tests.
.venv/bin/schemathesis run "http://127.0.0.1:$PORT/schema/openapi.json" \
    -H "Authorization: Bearer $TOKEN" --checks all --max-examples "$EXAMPLES" --workers 2 --no-color \
    --exclude-operation-id revokeToken --exclude-operation-id resetUserPassword --exclude-operation-id updateUser
if grep -q "Traceback" "/tmp/$DB.log"; then echo "the service logged a traceback:"; cat "/tmp/$DB.log"; exit 1; fi
