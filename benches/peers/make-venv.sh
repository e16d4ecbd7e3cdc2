#!/usr/bin/env bash
# Creates (or refreshes) the pinned Python venv of the benchmark peers:
#   bash benches/peers/make-venv.sh [VENV_DIR]        (default target/bench-venv)
# The venv is rebuilt only when benches/peers/requirements.txt changed since the last install
# (a copy of it is kept inside the venv). `python3 -m venv` needs the venv/ensurepip modules;
# on Debian they come with python3-venv, installed here when missing as scripts/install-deps.sh
# installs the system libraries.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/requirements.txt"
venv="${1:-target/bench-venv}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  cmd="apt-get update && apt-get install -y --no-install-recommends python3-venv"
  if [ "$(id -u)" -eq 0 ]; then
    echo "bench-peers: installing python3-venv"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "bench-peers: installing python3-venv with sudo"
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv
  else
    echo "bench-peers needs the Python venv module (Debian: python3-venv)." >&2
    echo "Run as root:  $cmd" >&2
    exit 1
  fi
fi

if [ -x "$venv/bin/python" ] && cmp -s "$req" "$venv/requirements.installed.txt"; then
  exit 0
fi
echo "bench-peers: creating $venv from $req"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
cp "$req" "$venv/requirements.installed.txt"
