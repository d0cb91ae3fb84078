#!/usr/bin/env bash
# Installs the Debian packages Sirocco builds against (and, with --tests, what its tests drive),
# only those missing; apt-get update runs once, then. As root directly, else through sudo -n.
#
# Usage: scripts/install-packages.sh [--tests]
set -euo pipefail

packages=(libncursesw5-dev libreadline-dev zlib1g-dev libssl-dev)
[[ "${1:-}" == "--tests" ]] && packages+=(tmux)

missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

apt_get=(apt-get)
if [[ "$(id -u)" -ne 0 ]]; then
    if ! sudo -n true 2>/dev/null; then
        echo "sirocco: these Debian packages are missing: ${missing[*]}" >&2
        echo "sirocco: install them with: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    apt_get=(sudo -n apt-get)
fi
echo "installing ${missing[*]} …" >&2
"${apt_get[@]}" update -qq </dev/null
DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}" </dev/null
