#!/usr/bin/env bash
# Installs the Debian packages SyncSAM builds against (BLAS, zlib, libpng, libjpeg-turbo, pkg-config).
# Idempotent: does nothing when they are already present. Needs root (or sudo) on a fresh machine.
set -euo pipefail
packages=(libopenblas-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup-system: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
