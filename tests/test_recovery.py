"""Crash recovery: trials of dead workers are failed and re-queued, an interrupted trial is never left RUNNING."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from autotune.recovery import fail_quietly


class _BrokenStorage:
    """Stands in for a storage whose session an interrupt broke (that state cannot be produced on demand)."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise RuntimeError("This Session's transaction has been rolled back")
        return fail


def test_fail_quietly_writes_through_a_fresh_connection_when_the_session_is_broken(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(storage=url, study_name="s")
    trial = study.ask()
    broken = optuna.load_study(storage=url, study_name="s")
    broken._storage = _BrokenStorage()
    fail_quietly(broken, trial, url)
    assert optuna.load_study(storage=url, study_name="s").trials[0].state == TrialState.FAIL


def test_fail_quietly_leaves_a_finished_trial_alone_and_warns_when_nothing_works(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(storage=url, study_name="s")
    done = study.ask()
    study.tell(done, 0.5)
    fail_quietly(study, done, url)
    assert study.trials[0].state == TrialState.COMPLETE and study.trials[0].value == 0.5
    running = study.ask()
    study._storage = _BrokenStorage()
    fail_quietly(study, running, None)  # no URL to reconnect with
    assert capsys.readouterr().err.startswith(f"Warning: could not mark trial {running.number} FAIL (RuntimeError")
