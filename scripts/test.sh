#!/usr/bin/env bash
# Install autotune with its test extras into .venv (if needed) and run the whole test suite.
# Slow tests (real MNIST, subprocesses) run too; pass extra pytest arguments after the script,
# e.g. `bash scripts/test.sh -m "not slow"` for a quick pass.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
log="$(mktemp)"
# ray: tests/execution/test_ray.py runs `run --ray` on a real local Ray head (a plain install stays without it);
# docs: mkdocs, mkdocs-material and mkdocs-click, to build the manual as a site below
if ! .venv/bin/pip install --quiet --disable-pip-version-check -e '.[test,ray,docs]' >"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" >&2 || true
    # The install takes about 7 GB (torch's CUDA build among it); a full disk is the usual cause on a shared host.
    echo "scripts/test.sh: pip install failed ($(df -h --output=avail . | tail -1 | tr -d ' ') free on this disk; the install needs about 7 GB)" >&2
    exit 1
fi
rm -f "$log"
# The offline MNIST / Fashion-MNIST files: ../shared/data beside this checkout, unless set already.
if [ -z "${AUTOTUNE_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
    export AUTOTUNE_DATA_DIR="$(cd ../shared/data && pwd)"
fi
# The style, kept by ruff (pyproject.toml's [tool.ruff]): lint, then formatting, before any test runs.
.venv/bin/ruff check --quiet autotune tests scripts examples
.venv/bin/ruff format --check --quiet autotune tests scripts examples
# The layers, kept by import-linter (pyproject.toml's [tool.importlinter]): no upward import, no cycle.
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
# The manual as a site (mkdocs.yml): --strict fails on a broken link or anchor, and the command reference
# (docs/reference.md) is generated from the click commands themselves.
site="$(mktemp -d)"
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet --site-dir "$site"
rm -rf "$site"
exec .venv/bin/python -m pytest -ra "$@"
