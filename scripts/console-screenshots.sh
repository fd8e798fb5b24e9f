#!/usr/bin/env bash
# Regenerates the console screenshots the README shows (docs/images/console-*.png): runs the
# browser test that renders the overview and an exception page with sample data, in Debian's
# chromium (installed by scripts/install-browser.sh), and keeps its pictures.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-browser.sh >/dev/null
mkdir -p docs/images
CONSOLE_SCREENSHOTS_DIR="$PWD/docs/images" \
  cargo test --test browser the_overview_and_an_exception_page_render_with_data -- --nocapture
ls -l docs/images/console-*.png
