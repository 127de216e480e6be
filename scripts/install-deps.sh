#!/usr/bin/env bash
# Installs the Debian packages moodboost needs, only those missing (idempotent, quick when all
# are there). Usage: scripts/install-deps.sh [--test]   (--test adds what the test suite uses)
set -euo pipefail

packages=(cmake make g++ pkg-config ccache
          libxgboost-dev xgboost          # xgboost: Debian's XGBoost CMake config references its CLI
          rapidjson-dev libeigen3-dev libfmt-dev libcli11-dev catch2 libbenchmark-dev)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(python3 python3-numpy python3-sklearn python3-xgboost   # cross-checks against the reference tools
             pybind11-dev python3-dev python3-pytest                 # the Python module and its tests
             python3-dask python3-distributed python3-pandas         # moodboost.dask (xgboost.dask)
             clang libclang-rt-14-dev clang-format                   # libFuzzer harnesses, formatting check
             chromium)                                               # HTML reports in a real browser
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "moodboost: installing missing Debian packages: ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
  apt_get=(apt-get)
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  apt_get=(sudo apt-get)
else
  echo "moodboost: these packages are missing and installing them needs root:" >&2
  echo "    sudo apt-get install -y ${missing[*]}" >&2
  echo "Run that (or this script as root), then run this command again." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${apt_get[@]}" update -qq
"${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}"
