#!/usr/bin/env bash
# Installs the system libraries neuropop links against (HDF5, OpenBLAS/LAPACK, pkg-config)
# on Debian/Ubuntu, only when they are missing.
set -euo pipefail
pkgs=(libhdf5-dev libopenblas-dev pkg-config)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  echo "neuropop: installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  echo "neuropop: installing system packages with sudo: ${missing[*]}"
  sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "neuropop needs these system packages: ${missing[*]}" >&2
  echo "Run as root:  $cmd" >&2
  exit 1
fi
