#!/usr/bin/env bash
# The test suite, from a bare Debian machine with the Swift toolchain: system packages, LiteMedSAM weights
# (for the real-weight parity tests; they are skipped with a message if the download is impossible), one
# optimised build with testing enabled (fast numerics, @testable imports), then every test target.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
bash scripts/setup-system.sh
flags=(-c release -Xswiftc -enable-testing)
swift build "${flags[@]}" --build-tests
swift build "${flags[@]}" --product syncsam   # the CLI tests run the executable
bin="$(swift build "${flags[@]}" --show-bin-path)/syncsam"
bash scripts/fetch-litemedsam.sh "$bin" || echo "test: LiteMedSAM weights unavailable; real-weight tests will be skipped"
swift test "${flags[@]}" --skip-build --disable-swift-testing
