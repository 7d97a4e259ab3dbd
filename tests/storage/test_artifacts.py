"""Trial artifacts: where they live, a folder that cannot be written, checkpoints that carry no code."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
import traceback
from pathlib import Path

import pytest
import torch

from autotune.errors import CheckpointError, StorageError
from autotune.storage.artifacts import artifact_dir, check_folder, load_checkpoint, open_store


def test_artifacts_live_beside_the_sqlite_file_unless_told(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOTUNE_ARTIFACT_DIR", raising=False)
    assert artifact_dir(f"sqlite:///{tmp_path / 'x.db'}") == tmp_path / "x-artifacts"
    assert artifact_dir("postgresql+psycopg://u@h/db").name == "autotune-artifacts"
    assert artifact_dir(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "mine") == tmp_path / "mine"
    monkeypatch.setenv("AUTOTUNE_ARTIFACT_DIR", str(tmp_path / "env"))
    assert artifact_dir(f"sqlite:///{tmp_path / 'x.db'}") == tmp_path / "env"


def _as_unprivileged_user(check) -> None:
    """Run ``check()`` in this process when it is not root, else in a forked child that has become the unprivileged
    user named by $AUTOTUNE_TEST_USER (.ci/run creates one): root writes into read-only folders."""
    if os.geteuid() != 0:
        check()
        return
    name = os.environ.get("AUTOTUNE_TEST_USER")
    if not name:
        pytest.skip("runs as root: set AUTOTUNE_TEST_USER to an unprivileged user (as .ci/run does)")
    user = pwd.getpwnam(name)
    assert user.pw_uid != 0, name
    pid = os.fork()
    if pid == 0:  # the child: drop root for good, run the check, report through the exit code
        code = 1
        try:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            check()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, f"the check failed as user {name} (traceback above)"


def test_a_read_only_folder_is_refused_and_nothing_is_created():
    folder = Path(tempfile.mkdtemp(prefix="autotune-ro-"))  # not under pytest's root-only tmp folder
    try:
        folder.chmod(0o755)
        (folder / "ro").mkdir(mode=0o555)
        (folder / "ro").chmod(0o555)

        def check() -> None:
            assert os.geteuid() != 0
            with pytest.raises(StorageError) as refused:
                check_folder(folder / "ro" / "art")
            assert str(refused.value) == (
                f"cannot write to artifact folder '{folder / 'ro' / 'art'}': "
                f"'{folder / 'ro'}' does not let a folder be made in it (Permission denied)"
            )
            assert not (folder / "ro" / "art").exists()

        _as_unprivileged_user(check)
    finally:
        (folder / "ro").chmod(0o755)
        shutil.rmtree(folder)


def test_a_folder_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match=f"cannot write to artifact folder '{tmp_path / 'file' / 'art'}'"):
        open_store(tmp_path / "file" / "art")


class Payload:
    """Any class: loading it would run pickled code, which weights_only loading refuses."""


def test_a_checkpoint_with_a_pickled_object_is_refused(tmp_path):
    torch.save({"weights": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(
        CheckpointError, match=f"checkpoint '{tmp_path / 'evil.pt'}' carries more than tensors and plain data"
    ):
        load_checkpoint(tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="cannot read checkpoint .*missing.pt': No such file or directory"):
        load_checkpoint(tmp_path / "missing.pt")
