#!/bin/sh
# Installs Debian's rclone, the baseline of the cloud-sync benchmark (bench/cloudsync.mjs), when it
# is missing. Only as root (apt-get); otherwise it says how and exits 0, and the bench runs without
# the rclone baseline, saying so. Exit status 1 only when an install as root was tried and failed.
#   sh scripts/install-rclone.sh
set -u

if command -v rclone >/dev/null 2>&1; then
  echo "rclone: $(rclone version 2>/dev/null | head -n 1) at $(command -v rclone)"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "rclone is not installed and this is not root: install Debian's package with"
  echo "  sudo apt-get update && sudo apt-get install -y rclone"
  echo "(the cloud-sync benchmark skips its rclone baseline until then)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "rclone is not installed and there is no apt-get here: install rclone with this system's"
  echo "package manager (the cloud-sync benchmark skips its rclone baseline until then)"
  exit 0
fi

echo "installing Debian's rclone: apt-get update && apt-get install -y rclone"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq rclone >/dev/null; then
  echo "rclone: $(rclone version 2>/dev/null | head -n 1) at $(command -v rclone)"
  exit 0
fi
echo "installing rclone failed (see above); the cloud-sync benchmark skips its rclone baseline" >&2
exit 1
