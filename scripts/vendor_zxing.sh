#!/usr/bin/env bash
# Vendor the reader build of zxing-wasm (zxing-cpp compiled to WebAssembly) for the chair's camera scanning.
#
# Usage: scripts/vendor_zxing.sh [VERSION INTEGRITY]
# Fetches the npm tarball with `npm pack`, refuses it unless its sha512 matches the pinned integrity, checks the
# .wasm against the SHA-256 the package itself declares, and copies only the ES-module reader (index.js, the
# shared chunk it imports, zxing_reader.wasm) and the LICENSE into inventory/web/static/vendor/zxing-wasm/.
# VERSION.txt there records the version, the tarball's integrity and each vendored file's SHA-256
# (tests/web/test_camera.py checks the files against it). To upgrade: pass the new version and the integrity
# `npm view zxing-wasm@VERSION dist.integrity` prints, read the package's changelog, run the camera test.
set -euo pipefail

VERSION="${1:-3.1.6}"
INTEGRITY="${2:-sha512-mU7UNuvl+hOT+nlSOQTMHZ2tM8lRMsbjDIp5IO/+HmBl/FOq77q0OSZPJ3cm42A9c1MKU6Uve67FiGdkhsrT9g==}"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/inventory/web/static/vendor/zxing-wasm"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "zxing-wasm@$VERSION" >/dev/null)
TARBALL="$WORK/zxing-wasm-$VERSION.tgz"
ACTUAL="sha512-$(openssl dgst -sha512 -binary "$TARBALL" | base64 -w0)"
if [[ "$ACTUAL" != "$INTEGRITY" ]]; then
  echo "zxing-wasm@$VERSION: tarball integrity $ACTUAL, expected $INTEGRITY" >&2
  exit 1
fi
tar -xzf "$TARBALL" -C "$WORK"
PKG="$WORK/package"

DECLARED="$(sed -n 's/^var ye = "\([0-9a-f]\{64\}\)";$/\1/p' "$PKG/dist/es/reader/index.js")"
WASM_SHA="$(sha256sum "$PKG/dist/reader/zxing_reader.wasm" | cut -d' ' -f1)"
if [[ -z "$DECLARED" || "$DECLARED" != "$WASM_SHA" ]]; then
  echo "zxing_reader.wasm: SHA-256 $WASM_SHA, the package declares '${DECLARED}'" >&2
  exit 1
fi
# The reader must import nothing but its shared chunk, so the two files below are the whole module graph.
IMPORTS="$(grep -ho 'from "[^"]*"' "$PKG/dist/es/reader/index.js" "$PKG/dist/es/share.js" | sort -u)"
if [[ "$IMPORTS" != 'from "../share.js"' ]]; then
  echo "unexpected imports in the reader build: $IMPORTS" >&2
  exit 1
fi

rm -rf "$DEST"
mkdir -p "$DEST/reader"
cp "$PKG/LICENSE" "$DEST/LICENSE"
cp "$PKG/dist/es/share.js" "$DEST/share.js"
cp "$PKG/dist/es/reader/index.js" "$DEST/reader/index.js"
cp "$PKG/dist/reader/zxing_reader.wasm" "$DEST/reader/zxing_reader.wasm"

{
  echo "zxing-wasm $VERSION (MIT, https://github.com/Sec-ant/zxing-wasm), zxing-cpp commit" \
    "$(sed -n 's/.*W = "\([0-9a-f]\{40\}\)".*/\1/p' "$PKG/dist/es/share.js")"
  echo "npm tarball $INTEGRITY"
  echo "vendored by scripts/vendor_zxing.sh; SHA-256 of each file:"
  (cd "$DEST" && sha256sum LICENSE share.js reader/index.js reader/zxing_reader.wasm)
} >"$DEST/VERSION.txt"
cat "$DEST/VERSION.txt"
