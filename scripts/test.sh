#!/usr/bin/env bash
# Set up everything on a fresh Debian/Ubuntu machine (run as root) and run the whole suite:
# system packages (Docker engine, debootstrap, registry), a virtualenv with the project and its
# test tools, ruff, mypy, then pytest with the real test rig required (no silent skips).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: run as root (the test rig starts its own Docker engines)" >&2
    exit 2
fi

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v ip >/dev/null || missing+=(iproute2)
command -v docker-registry >/dev/null || missing+=(docker-registry)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    python3 -m venv .venv
fi
echo "== installing gpurent and its test tools into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"

echo "== ruff"
.venv/bin/ruff check .
echo "== mypy"
.venv/bin/mypy
echo "== PostgreSQL for the database tests (SQLite runs too)"
export GPURENT_TEST_POSTGRES_URL
GPURENT_TEST_POSTGRES_URL=$(bash scripts/test-postgres.sh start)
trap 'bash scripts/test-postgres.sh stop' EXIT

echo "== pytest"
export GPURENT_RIG_REQUIRED=1
# Most of the suite's time is rig tests waiting on real containers, SSH and faults, not CPU:
# pytest-xdist workers, each with a rig of its own (tests/rig/config.py: slot), share it out.
# worksteal: a worker that runs dry takes tests from a busy one, so long files do not decide.
workers=${GPURENT_TEST_WORKERS:-2}
.venv/bin/python -m pytest -q -p no:cacheprovider -n "$workers" --dist worksteal "$@"
