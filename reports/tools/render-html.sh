#!/usr/bin/env bash
# Renders an llmroof HTML report to a PNG with headless Chromium, to look at what a reader sees.
# Not part of the build or the tests (Chromium is a manual, optional tool: apt-get install chromium).
#   reports/tools/render-html.sh report.html report.png [WIDTH [HEIGHT]]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 REPORT.html OUT.png [WIDTH [HEIGHT]]" >&2; exit 2; }
html=$(realpath "$1"); png=$(realpath -m "$2"); width=${3:-1400}; height=${4:-2000}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "$0: no chromium found (apt-get install chromium)" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
  --screenshot="$png" --window-size="$width,$height" "file://$html" 2>/dev/null
echo "$png"
