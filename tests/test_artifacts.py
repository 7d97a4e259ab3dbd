"""Trial artifacts: where they live, a folder that cannot be written, checkpoints that carry no code."""

from __future__ import annotations

import os

import pytest
import torch

from autotune.artifacts import artifact_dir, check_folder, load_checkpoint, open_store
from autotune.errors import CheckpointError, StorageError


def test_artifacts_live_beside_the_sqlite_file_unless_told(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOTUNE_ARTIFACT_DIR", raising=False)
    assert artifact_dir(f"sqlite:///{tmp_path / 'x.db'}") == tmp_path / "x-artifacts"
    assert artifact_dir("postgresql+psycopg://u@h/db").name == "autotune-artifacts"
    assert artifact_dir(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "mine") == tmp_path / "mine"
    monkeypatch.setenv("AUTOTUNE_ARTIFACT_DIR", str(tmp_path / "env"))
    assert artifact_dir(f"sqlite:///{tmp_path / 'x.db'}") == tmp_path / "env"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused_and_nothing_is_created(tmp_path):
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    try:
        with pytest.raises(StorageError, match="cannot write to artifact folder"):
            check_folder(tmp_path / "ro" / "art")
        assert not (tmp_path / "ro" / "art").exists()
    finally:
        (tmp_path / "ro").chmod(0o755)


def test_a_folder_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match=f"cannot write to artifact folder '{tmp_path / 'file' / 'art'}'"):
        open_store(tmp_path / "file" / "art")


class Payload:
    """Any class: loading it would run pickled code, which weights_only loading refuses."""


def test_a_checkpoint_with_a_pickled_object_is_refused(tmp_path):
    torch.save({"weights": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match=f"checkpoint '{tmp_path / 'evil.pt'}' carries more than tensors and "
                                              "plain data"):
        load_checkpoint(tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="cannot read checkpoint .*missing.pt': No such file or directory"):
        load_checkpoint(tmp_path / "missing.pt")
