#!/usr/bin/env bash
# Installs what the console's browser tests drive: Debian's chromium and chromedriver
# (packages chromium and chromium-driver). Does nothing when both are already installed.
# Prints the two paths. Needs root (apt-get) on a machine without them.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  command -v chromium
  command -v chromedriver
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-browser: chromium and chromedriver are missing; run as root, or install Debian's chromium and chromium-driver" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >&2
command -v chromium
command -v chromedriver
