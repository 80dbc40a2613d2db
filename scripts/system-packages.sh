#!/usr/bin/env bash
# Installs the Debian packages listed in the given files that are missing, one package per line
# (default: system-packages-demo.txt and system-packages.txt, everything the test tiers and the demo need).
# A fresh machine gets them from `make test` / `make demo`; a machine that has them pays one dpkg query
# per package.
#
#   bash scripts/system-packages.sh system-packages-demo.txt    # the demo's only: PostgreSQL, Redis
set -euo pipefail
cd "$(dirname "$0")/.."
lists=("$@")
[ ${#lists[@]} -gt 0 ] || lists=(system-packages-demo.txt system-packages.txt)
for list in "${lists[@]}"; do
  [ -f "$list" ] || { echo "No package list $list" >&2; exit 1; }
done
mapfile -t wanted < <(cat "${lists[@]}" | grep -vE '^[[:space:]]*(#|$)' | awk '{print $1}')
missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "These Debian packages are needed and apt-get is not available: ${missing[*]}" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Run as root: apt-get install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "Installing Debian packages: ${missing[*]}"
# Another apt run (a parallel build) holds the lock for a while: wait for it rather than fail.
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
  --no-install-recommends "${missing[@]}"
