#!/usr/bin/env bash
# Print the recipe of the locally built test image: a SHA-256 over the
# files that make it (build.sh, docker-entrypoint.sh and this script).
# build.sh labels the image with it (io.gatehouse.image-recipe), and
# ensure.sh rebuilds an image whose label differs, so an edit to any of
# them reaches every machine's image without a manual rebuild.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cat "$HERE/build.sh" "$HERE/docker-entrypoint.sh" "$HERE/recipe.sh" | sha256sum | cut -c1-16
