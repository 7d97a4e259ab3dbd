"""The skip policy: every skip is listed at the end of a run, and under ``AUTOTUNE_STRICT_SKIPS=1`` (set by
``.ci/run``) a skip whose reason is not on :data:`ALLOWED` is turned into a failure, so a CI run cannot be green
while quietly never running a test (missing data, seed files, a server, a privilege).

The hooks below are pytest hooks; ``tests/conftest.py`` imports them, which is how pytest finds them.
"""

from __future__ import annotations

import os

import pytest

#: The only skips a CI run may contain: the exact reason a test gives, and why skipping it there is right.
ALLOWED: dict[str, str] = {
    "needs a CUDA GPU": "the CI machines have no GPU (2-core x86_64); the GPU paths are tested where one is lent",
    "this machine has a CUDA GPU": "checks what happens without a GPU; on a GPU machine the GPU tests run instead",
    "one usable core: auto is one worker, as before": "checks several workers; a 1-core machine has only one",
}

STRICT_ENV = "AUTOTUNE_STRICT_SKIPS"
_SKIPS = pytest.StashKey[list]()  # (node id, reason) of every skip in this run


def skip_reason(report: pytest.TestReport) -> str:
    """The reason a skipped test gave, as it passed it to ``pytest.skip`` or ``skipif``."""
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _strict() -> bool:
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = skip_reason(report)
    item.config.stash.setdefault(_SKIPS, []).append((report.nodeid, reason))
    if _strict() and reason not in ALLOWED:
        report.outcome = "failed"
        report.longrepr = (
            f"skipped with a reason that is not on the allow-list (tests/skips.py, ALLOWED): "
            f"{reason!r}; with {STRICT_ENV}=1 (as in CI) every test must run"
        )


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skips = config.stash.get(_SKIPS, [])
    terminalreporter.section(f"skips: {len(skips)}")
    for nodeid, reason in skips:
        verdict = f"allowed: {ALLOWED[reason]}" if reason in ALLOWED else "NOT ALLOWED"
        terminalreporter.write_line(f"{nodeid}: {reason} ({verdict})")
    if not skips:
        terminalreporter.write_line("none: every selected test ran")
