#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the assistant needs, when they are missing.
# As root it uses apt-get; otherwise it says exactly what to run and fails.
set -euo pipefail

packages=("$@")
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing system packages: ${missing[*]}" >&2
    echo "This is not a Debian/Ubuntu system; install the equivalents with your package manager." >&2
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo)
    else
        echo "error: missing system packages: ${missing[*]}" >&2
        echo "Install them as root:  sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
else
    as_root=()
fi
echo "Installing system packages: ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
