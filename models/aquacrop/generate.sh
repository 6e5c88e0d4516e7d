#!/usr/bin/env bash
# Regenerate the recorded AquaCrop-OS seasons (models/aquacrop/data) from PyPI's aquacrop.
# The Python environment lives next to fieldhook's other cached tools, made once per machine:
#   ${XDG_CACHE_HOME:-~/.cache}/fieldhook/aquacrop-<version>   (about 1.5 min to install, ~300 MB)
# Usage: bash models/aquacrop/generate.sh [OUT]   (default models/aquacrop/data; about 2 min)
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION="$(sed -n 's/^aquacrop==//p' models/aquacrop/requirements.txt)"
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/fieldhook/aquacrop-$VERSION"
OUT="${1:-models/aquacrop/data}"
MARKER="$VENV/fieldhook-installed"
started=$SECONDS

if [ ! -f "$MARKER" ] || [ "$(cat "$MARKER")" != "$VERSION" ]; then
  # A venv without the marker is an interrupted install: start it again.
  rm -rf "$VENV"
  echo "aquacrop: installing aquacrop $VERSION from PyPI into $VENV (once per machine)…" >&2
  python3 -m venv "$VENV" || { echo "aquacrop: python3 -m venv failed (install python3 and python3-venv)" >&2; exit 1; }
  if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check -r models/aquacrop/requirements.txt; then
    rm -rf "$VENV"
    echo "aquacrop: pip install failed (is PyPI reachable?)" >&2
    exit 1
  fi
  echo "$VERSION" > "$MARKER"
  echo "aquacrop: installed in $((SECONDS - started)) s" >&2
fi
"$VENV/bin/python" models/aquacrop/generate.py --out "$OUT"
echo "aquacrop: seasons written to $OUT in $((SECONDS - started)) s" >&2
