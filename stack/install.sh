#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks for BenchHub, then the Python package
# into .venv. Safe to run again: it installs only what is missing. --test adds test-only tools.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(git curl make procps python3 python3-venv python3-pip victoria-metrics prometheus golang-go postgresql hyperfine valgrind)
# --test: also what only the test suite needs (a real Docker-compatible API: Podman + busybox).
if [ "${1:-}" = "--test" ]; then APT_PACKAGES+=(podman runc busybox-static); fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The package enables a systemd unit we do not use; the stack starts its own processes.
  if command -v systemctl >/dev/null && systemctl is-active --quiet victoria-metrics 2>/dev/null; then
    $SUDO systemctl disable --now victoria-metrics || true
  fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "==> pip install -e .[dev]"
  .venv/bin/python -m pip install -q --upgrade pip
  # grafana-client -> niquests -> urllib3-future, whose wheel replaces urllib3 for every package
  # (a .pth rewrites it at each start), breaking requests-based ones (schemathesis, docker).
  # Built from source with URLLIB3_NO_OVERRIDE=1 it lives beside urllib3 instead.
  site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  if [ -f "$site/urllib3_future.pth" ]; then
    .venv/bin/python -m pip uninstall -q -y urllib3-future urllib3
    rm -rf "$site/urllib3" "$site/urllib3_future.pth"
  fi
  URLLIB3_NO_OVERRIDE=1 .venv/bin/python -m pip install -q --no-binary urllib3-future "urllib3-future>=2.12"
  # compat mode: the project folder on sys.path by a .pth line, as a regular install has it; the
  # default mode's import hook costs every Python start ~17 ms (bhubctl's start-up, issue 16).
  # setuptools calls compat transitional: if it is gone, the default mode.
  .venv/bin/python -m pip install -q -e ".[dev]" --config-settings editable_mode=compat \
    || .venv/bin/python -m pip install -q -e ".[dev]"
  if [ -f "$site/urllib3_future.pth" ]; then echo "urllib3-future replaced urllib3 in .venv" >&2; exit 1; fi
  touch .venv/.installed
fi
echo "==> ready: $(.venv/bin/bhubctl --help >/dev/null && echo bhubctl OK)"
