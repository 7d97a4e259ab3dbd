import os
import signal
import subprocess
import sys

import pytest

from autotune.base import interrupts


class _SignalsInDel:
    """Sends SIGTERM to this process from inside __del__, where Python drops a raised exception."""

    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(10_000):  # the handler runs between these bytecodes; its KeyboardInterrupt is dropped
            pass


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_swallowed_interrupt_is_raised_again_at_the_next_check_and_prints_nothing(capfd):
    with interrupts.stop_on_signals():
        victim = _SignalsInDel()
        del victim  # no exception escapes: this is how a Ctrl-C got lost inside an SQLAlchemy callback
        assert interrupts.requested()
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    # Python's "Exception ignored ... Traceback" for the dropped one would read as a crash (a CI run showed it)
    assert capfd.readouterr().err == ""


def test_other_unraisable_errors_still_reach_the_previous_hook(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(type(u.exc_value).__name__))
    with interrupts.stop_on_signals():

        class Faulty:
            def __del__(self):
                raise ValueError("a real bug")

        Faulty()
    assert seen == ["ValueError"]


def test_no_request_means_check_does_nothing_and_handlers_are_restored():
    before = signal.getsignal(signal.SIGTERM)
    with interrupts.stop_on_signals():
        interrupts.check()
        assert not interrupts.requested()
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_stop_does_not_outlive_its_block():
    """A Ctrl-C during one API call (e.g. autotune.report) must not stop the next run in the same process."""
    with interrupts.stop_on_signals():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10_000):
                pass
        assert interrupts.requested()
    assert not interrupts.requested()
    interrupts.check()  # raises nothing


def test_a_deferred_signal_arrives_when_the_step_is_over():
    reached_end_of_step = False
    with interrupts.stop_on_signals():
        with pytest.raises(KeyboardInterrupt):
            with interrupts.deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10_000):
                    pass
                reached_end_of_step = True
    assert reached_end_of_step


def test_allowed_lets_a_signal_through_at_once_inside_a_deferred_step_and_defers_again_after():
    """Training the noise floor's runs under the slot lock (analysis.stopping) must stop at Ctrl-C, not after."""
    steps = []
    with interrupts.stop_on_signals():
        with pytest.raises(KeyboardInterrupt):
            with interrupts.deferred():
                with interrupts.allowed():
                    os.kill(os.getpid(), signal.SIGTERM)
                    for _ in range(10_000):
                        pass
                    steps.append("after the signal, inside allowed")
    with interrupts.stop_on_signals():
        with pytest.raises(KeyboardInterrupt):
            with interrupts.deferred():
                with interrupts.allowed():
                    pass
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10_000):
                    pass
                steps.append("deferred again after allowed")
    assert steps == ["deferred again after allowed"]


INTERRUPTED_CLI = """
import sys

import autotune.cli.commands as c
from autotune.errors import Interrupted


@c.cli.command("boom")
def boom():
    try:  # what a Ctrl-C landing inside code a library generated with exec() leaves behind in CPython
        exec("raise KeyboardInterrupt", {})
    except KeyboardInterrupt:
        pass
    raise Interrupted("interrupted: test")


if __name__ == "__main__":
    sys.argv = ["autotune", "boom"]
    c.main()
"""


def test_exit_code_is_130_even_after_a_keyboard_interrupt_escaped_a_string_exec(tmp_path):
    # Under `python -m`, CPython then kills itself with SIGINT at exit (returncode -2), whatever
    # code sys.exit() asked for; this was the CI flake of the interrupt test. Without the fix
    # in autotune.cli.commands.main this test sees -2.
    (tmp_path / "interrupted_cli.py").write_text(INTERRUPTED_CLI)
    proc = subprocess.run(
        [sys.executable, "-m", "interrupted_cli"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert (proc.returncode, proc.stderr.strip()) == (130, "Error: interrupted: test")
