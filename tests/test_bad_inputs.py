"""The bad-input corpus: every command, fed malformed, hostile, conflicting or impossible input.

Each case asserts the same promise: a non-zero exit, exactly one ``Error: …`` line naming the
problem, no traceback, the study database byte-identical afterwards, and no file left behind.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import (
    assert_one_error_line,
    file_digest,
    finished_study,
    fresh_pg_database,
    invoke,
    tiny_digits_spec,
)

SPEC = tiny_digits_spec(trials=2)


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """A database holding the finished study 'tiny-digits' (2 trials), made once for the module."""
    return finished_study(tmp_path_factory.mktemp("stored"), SPEC)


def spec_text(**changes) -> str:
    return yaml.safe_dump({**SPEC, **changes}, sort_keys=False)


# (id, files to write: name -> text, command line, fragments of the one error line)
CASES = [
    # --- spec files given to `run`
    (
        "yaml-malformed",
        {"s.yaml": "name: [unclosed\n"},
        ["run", "--study", "s.yaml"],
        ["s.yaml: invalid YAML at line 2, column 1"],
    ),
    (
        "yaml-python-tag",
        {"s.yaml": "!!python/object/apply:os.system ['touch pwned']\n"},
        ["run", "--study", "s.yaml"],
        [
            "s.yaml: invalid YAML at line 1, column 1: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'"
        ],
    ),
    (
        "yaml-not-a-mapping",
        {"s.yaml": "- a\n- b\n"},
        ["run", "--study", "s.yaml"],
        ["s.yaml: a study spec must be a mapping of keys to values, got list"],
    ),
    ("yaml-binary", {"s.yaml": b"\xff\xfe\x00garbage"}, ["run", "--study", "s.yaml"], ["cannot read study spec"]),
    ("spec-missing-file", {}, ["run", "--study", "nope.yaml"], ["study spec file 'nope.yaml' does not exist"]),
    ("spec-unknown-name", {}, ["run", "--study", "mlp-cifar"], ["unknown study 'mlp-cifar'"]),
    (
        "spec-wrong-type",
        {"s.yaml": spec_text(max_epochs="ten")},
        ["run", "--study", "s.yaml"],
        ["max_epochs: must be an integer, got 'ten'"],
    ),
    (
        "spec-out-of-range",
        {"s.yaml": spec_text(space={"lr": {"low": 0, "high": 0.1}})},
        ["run", "--study", "s.yaml"],
        ["space.lr.low: must be a number > 0 and <= 10, got 0"],
    ),
    ("spec-unknown-key", {"s.yaml": spec_text(epochs=3)}, ["run", "--study", "s.yaml"], ["epochs: unknown key"]),
    (
        "spec-huge-units",
        {"s.yaml": spec_text(fixed={"units": 10**9})},
        ["run", "--study", "s.yaml"],
        ["fixed.units: must be an integer >= 1 and <= 8192, got 1000000000"],
    ),
    (
        "spec-huge-epochs",
        {"s.yaml": spec_text(max_epochs=10**9)},
        ["run", "--study", "s.yaml"],
        ["max_epochs: must be <= 10000, got 1000000000"],
    ),
    (
        "spec-batch-larger-than-data",
        {"s.yaml": spec_text(space={"lr": {"low": 0.01, "high": 0.1}}, fixed={"batch_size": 5000})},
        ["run", "--study", "s.yaml"],
        ["batch_size 5000 is larger than the 1150 training examples of 'digits'"],
    ),
    (
        "spec-final-budget",
        {"s.yaml": spec_text(final={"max_epochs": 5, "train_subset": -2})},
        ["run", "--study", "s.yaml"],
        ["final.train_subset: must be 'all' or a count >= 1, got -2"],
    ),
    (
        "spec-empty-space",
        {"s.yaml": spec_text(space={})},
        ["run", "--study", "s.yaml"],
        ["space: must be a non-empty mapping"],
    ),
    (
        "spec-both-searched-and-fixed",
        {"s.yaml": spec_text(fixed={"lr": 0.1})},
        ["run", "--study", "s.yaml"],
        ["space.lr: is also under 'fixed'"],
    ),
    (
        "spec-changed-for-stored-study",
        {"s.yaml": spec_text(max_epochs=5)},
        ["run", "--study", "s.yaml"],
        ["study 'tiny-digits'", "--study-name"],
    ),
    (
        "spec-stop-one-seed",
        {"s.yaml": spec_text(stop={"seeds": 1})},
        ["run", "--study", "s.yaml"],
        ["stop.seeds: must be >= 2, got 1: no spread can be measured with one seed"],
    ),
    (
        "spec-stop-patience-zero",
        {"s.yaml": spec_text(stop={"patience": 0})},
        ["run", "--study", "s.yaml"],
        ["stop.patience: must be >= 1, got 0"],
    ),
    (
        "spec-stop-unknown-rule",
        {"s.yaml": spec_text(stop={"rule": "plateau"})},
        ["run", "--study", "s.yaml"],
        ["stop.rule: must be one of noise; got 'plateau'"],
    ),
    (
        "spec-precision",
        {"s.yaml": spec_text(precision="fp16")},
        ["run", "--study", "s.yaml"],
        ["precision: must be one of fp32, bf16, auto; got 'fp16'"],
    ),
    (
        "spec-step",
        {"s.yaml": spec_text(step="compiled")},
        ["run", "--study", "s.yaml"],
        ["step: must be one of plain, fused; got 'compiled'"],
    ),
    # --- run / worker options
    (
        "run-precision",
        {"s.yaml": spec_text()},
        ["run", "--study", "s.yaml", "--precision", "fp16"],
        ["'--precision'", "'fp16' is not one of 'fp32', 'bf16', 'auto'"],
    ),
    (
        "worker-precision",
        {"s.yaml": spec_text()},
        ["worker", "--study", "s.yaml", "--precision", "half"],
        ["'--precision'", "'half' is not one of 'fp32', 'bf16', 'auto'"],
    ),
    (
        "run-step",
        {"s.yaml": spec_text()},
        ["run", "--study", "s.yaml", "--step", "turbo"],
        ["'--step'", "'turbo' is not one of 'plain', 'fused'"],
    ),
    (
        "worker-step",
        {"s.yaml": spec_text()},
        ["worker", "--study", "s.yaml", "--step", "compiled"],
        ["'--step'", "'compiled' is not one of 'plain', 'fused'"],
    ),
    (
        "run-device",
        {"s.yaml": spec_text()},
        ["run", "--study", "s.yaml", "--device", "tpu"],
        ["--device 'tpu' is not a device"],
    ),
    (
        "run-bad-scheme",
        {"s.yaml": spec_text()},
        ["run", "--study", "s.yaml", "--storage", "ftp://host/db"],
        ["unknown storage scheme 'ftp'"],
    ),
    (
        "run-sqlite-no-folder",
        {"s.yaml": spec_text()},
        ["run", "--study", "s.yaml", "--storage", "sqlite:////no/dir/x.db"],
        ["folder '/no/dir' does not exist"],
    ),
    (
        "run-data-dir-missing",
        {"s.yaml": spec_text(dataset="mnist", space={"lr": {"low": 0.01, "high": 0.1}})},
        ["run", "--study", "s.yaml", "--data-dir", "/no/such/data"],
        ["data folder '/no/such/data'"],
    ),
    (
        "run-stop-unknown",
        {"s.yaml": spec_text()},
        ["run", "--study", "s.yaml", "--stop", "foo"],
        ["'--stop'", "'foo' is not 'noise'"],
    ),
    (
        "run-stop-patience-zero",
        {"s.yaml": spec_text()},
        ["run", "--study", "s.yaml", "--stop", "noise", "--stop-patience", "0"],
        ["'--stop-patience'", "0 is not in the range x>=1"],
    ),
    (
        "run-stop-patience-without-rule",
        {"s.yaml": spec_text()},
        ["run", "--study", "s.yaml", "--stop-patience", "5"],
        ["--stop-patience 5 needs a stopping rule: add --stop noise, or a stop: block to spec 'tiny-digits'"],
    ),
    (
        "run-stop-multi-objective",
        {"s.yaml": spec_text(name="pareto", objectives=["val_accuracy", "params"], pruner={"name": "none"})},
        ["run", "--study", "s.yaml", "--stop", "noise"],
        ["--stop noise: the rule compares trials by one objective, and study 'pareto' has 2 (val_accuracy, params)"],
    ),
    (
        "worker-no-study",
        {"s.yaml": spec_text(name="other")},
        ["worker", "--study", "s.yaml"],
        ["no study 'other' in storage"],
    ),
    ("worker-no-spec", {}, ["worker"], ["Missing option '--study'"]),
    (
        "worker-timeout",
        {"s.yaml": spec_text()},
        ["worker", "--study", "s.yaml", "--timeout", "0"],
        ["'--timeout'", "0.0 is not in the range x>0"],
    ),
    # --- commands that read a stored study
    ("studies-bad-scheme", {}, ["studies", "--storage", "mongodb://x/y"], ["unknown storage scheme 'mongodb'"]),
    (
        "report-unknown-study",
        {"s.yaml": spec_text(name="ghost")},
        ["report", "--study", "s.yaml"],
        ["no study 'ghost' in storage"],
    ),
    (
        "report-no-database",
        {"s.yaml": spec_text()},
        ["report", "--study", "s.yaml", "--storage", "sqlite:///none.db"],
        ["no study database at", "none.db"],
    ),
    (
        "report-bad-lang",
        {"s.yaml": spec_text()},
        ["report", "--study", "s.yaml", "--lang", "fr"],
        ["'--lang'", "'fr' is not one of 'en', 'zh'"],
    ),
    (
        "export-unknown-trial",
        {"s.yaml": spec_text()},
        ["export", "--study", "s.yaml", "--trial", "999"],
        ["study 'tiny-digits' has no trial 999; trials are 0..1"],
    ),
    (
        "export-trial-and-objective",
        {"s.yaml": spec_text()},
        ["export", "--study", "s.yaml", "--trial", "0", "--objective", "val_accuracy"],
        ["give --trial N or --objective K"],
    ),
    (
        "export-unknown-objective",
        {"s.yaml": spec_text()},
        ["export", "--study", "s.yaml", "--objective", "speed"],
        ["--objective 'speed' is not an objective of this study; allowed: 0 or val_accuracy"],
    ),
    (
        "export-seeds-zero",
        {"s.yaml": spec_text()},
        ["export", "--study", "s.yaml", "--seeds", "0"],
        ["'--seeds'", "0 is not in the range x>=1"],
    ),
    (
        "export-epochs-zero",
        {"s.yaml": spec_text()},
        ["export", "--study", "s.yaml", "--epochs", "0"],
        ["'--epochs'", "0 is not in the range x>=1"],
    ),
    (
        "export-train-subset-word",
        {"s.yaml": spec_text()},
        ["export", "--study", "s.yaml", "--train-subset", "most"],
        ["'--train-subset'", "must be 'all' or a count >= 1, got 'most'"],
    ),
    (
        "replay-trial-and-config",
        {"s.yaml": spec_text(), "c.yaml": "lr: 0.01\n"},
        ["replay", "--study", "s.yaml", "--trial", "0", "--config", "c.yaml"],
        ["give exactly one of --trial N|best and --config FILE"],
    ),
    (
        "replay-neither",
        {"s.yaml": spec_text()},
        ["replay", "--study", "s.yaml"],
        ["give exactly one of --trial N|best and --config FILE"],
    ),
    (
        "replay-unknown-trial",
        {"s.yaml": spec_text()},
        ["replay", "--study", "s.yaml", "--trial", "999"],
        ["study 'tiny-digits' has no trial 999; trials are 0..1"],
    ),
    (
        "replay-trial-not-a-number",
        {"s.yaml": spec_text()},
        ["replay", "--study", "s.yaml", "--trial", "abc"],
        ["--trial must be a trial number or 'best', got 'abc'"],
    ),
    (
        "replay-set-not-key-value",
        {"s.yaml": spec_text()},
        ["replay", "--study", "s.yaml", "--trial", "0", "--set", "lr"],
        ["--set 'lr' is not KEY=VALUE"],
    ),
    (
        "replay-set-out-of-range",
        {"s.yaml": spec_text()},
        ["replay", "--study", "s.yaml", "--trial", "0", "--set", "units=-5"],
        ["--set: units[0]: must be an integer >= 1 and <= 8192, got -5"],
    ),
    (
        "replay-set-unknown",
        {"s.yaml": spec_text()},
        ["replay", "--study", "s.yaml", "--trial", "0", "--set", "colour=1"],
        ["unknown parameter 'colour'"],
    ),
    (
        "replay-set-yaml-tag",
        {"s.yaml": spec_text()},
        ["replay", "--study", "s.yaml", "--trial", "0", "--set", "lr=!!python/name:os.system"],
        ["--set lr: cannot parse"],
    ),
    (
        "replay-config-missing",
        {"s.yaml": spec_text()},
        ["replay", "--study", "s.yaml", "--config", "missing.yaml"],
        ["cannot read config file 'missing.yaml'"],
    ),
    (
        "replay-config-not-mapping",
        {"s.yaml": spec_text(), "c.yaml": "[1, 2]\n"},
        ["replay", "--study", "s.yaml", "--config", "c.yaml"],
        ["config file 'c.yaml' must hold a mapping"],
    ),
    (
        "replay-seeds-zero",
        {"s.yaml": spec_text()},
        ["replay", "--study", "s.yaml", "--trial", "0", "--seeds", "0"],
        ["'--seeds'", "0 is not >= 1"],
    ),
    (
        "ablate-unknown-baseline-trial",
        {"s.yaml": spec_text()},
        ["ablate", "--study", "s.yaml", "--baseline", "trial:999"],
        ["study 'tiny-digits' has no trial 999"],
    ),
    (
        "ablate-baseline-file-missing",
        {"s.yaml": spec_text()},
        ["ablate", "--study", "s.yaml", "--baseline", "nothere.yaml"],
        ["cannot read config file 'nothere.yaml'"],
    ),
    (
        "sweep-unknown-param",
        {"s.yaml": spec_text()},
        ["sweep", "--study", "s.yaml", "--param", "colour", "--values", "1,2"],
        ["--values: unknown parameter 'colour'; allowed: lr, batch_size"],
    ),
    (
        "sweep-bad-value",
        {"s.yaml": spec_text()},
        ["sweep", "--study", "s.yaml", "--param", "lr", "--values", "0.1,abc"],
        ["--values: lr: must be a number > 0 and <= 10, got 'abc'"],
    ),
    (
        "confirm-top-zero",
        {"s.yaml": spec_text()},
        ["confirm", "--study", "s.yaml", "--top", "0"],
        ["--top must be an integer >= 1 (how many of the best trials to confirm), got 0"],
    ),
    (
        "confirm-top-word",
        {"s.yaml": spec_text()},
        ["confirm", "--study", "s.yaml", "--top", "all"],
        ["'--top'", "'all' is not a valid integer"],
    ),
    (
        "confirm-seeds-one",
        {"s.yaml": spec_text()},
        ["confirm", "--study", "s.yaml", "--seeds", "1"],
        ["--seeds must be an integer >= 2, got 1: no spread can be measured with one seed"],
    ),
    (
        "confirm-unknown-study",
        {},
        ["confirm", "--study", "ghost"],
        ["unknown study 'ghost': not a shipped spec", "nor a study in storage"],
    ),
    (
        "confirm-spec-not-stored",
        {"s.yaml": spec_text(name="ghost")},
        ["confirm", "--study", "s.yaml"],
        ["no study 'ghost' in storage"],
    ),
    (
        "confirm-no-database",
        {"s.yaml": spec_text()},
        ["confirm", "--study", "s.yaml", "--storage", "sqlite:///none.db"],
        ["no study database at", "none.db"],
    ),
    # --- import: the whole table is read and checked before anything is written
    (
        "import-ragged-row",
        {"s.yaml": spec_text(), "t.csv": "lr,acc\n0.01,0.9\n0.02\n"},
        ["import", "--study", "s.yaml", "--table", "t.csv"],
        ["t.csv row 2 (line 3) has 1 cells, the header has 2; every row needs one cell per column"],
    ),
    (
        "import-ragged-row-new-database",
        {"s.yaml": spec_text(), "t.md": "| lr | acc |\n|---|---|\n| 0.01 | 0.9 | 3 |\n"},
        ["import", "--study", "s.yaml", "--table", "t.md", "--storage", "sqlite:///new.db"],
        ["t.md#1 row 1 (line 3) has 3 cells, the header has 2"],
    ),
    (
        "import-unknown-column",
        {"s.yaml": spec_text(), "t.csv": "lr,colour\n0.01,red\n"},
        ["import", "--study", "s.yaml", "--table", "t.csv"],
        ["t.csv: column 2 'colour': unknown column; recognised: 学习率/lr", "or name it with --map 'colour=PARAM'"],
    ),
    (
        "import-unreadable-value",
        {"s.yaml": spec_text(), "t.csv": "学习率,准确率\nfast,90%\n"},
        ["import", "--study", "s.yaml", "--table", "t.csv"],
        ["t.csv row 1 (line 2), column '学习率': cannot read 'fast' as a learning rate"],
    ),
    (
        "import-value-out-of-bounds",
        {"s.yaml": spec_text(), "t.csv": "编号,lr,batch_size,acc\n7,0.01,0,0.9\n"},
        ["import", "--study", "s.yaml", "--table", "t.csv"],
        ["t.csv row 7 (line 2), column 'batch_size': batch_size: must be an integer >= 1 and <= 65536, got 0"],
    ),
    (
        "import-structure-of-another-dataset",
        {"s.yaml": spec_text(), "t.csv": '网络结构,acc\n"[784,32,10]",0.9\n'},
        ["import", "--study", "s.yaml", "--table", "t.csv"],
        [
            "t.csv row 1 (line 2), column '网络结构': the structure '[784,32,10]' reads as input…output sizes "
            "only at one end; "
            "dataset 'digits' has 64 inputs and 10 outputs"
        ],
    ),
    (
        "import-empty-table",
        {"s.yaml": spec_text(), "t.csv": "lr,acc\n"},
        ["import", "--study", "s.yaml", "--table", "t.csv"],
        ["t.csv: the table has no rows with values"],
    ),
    (
        "import-missing-table",
        {"s.yaml": spec_text()},
        ["import", "--study", "s.yaml", "--table", "nope.csv"],
        ["table file 'nope.csv' does not exist"],
    ),
    (
        "import-markdown-number",
        {"s.yaml": spec_text(), "t.md": "| lr | acc |\n|---|---|\n| 0.01 | 0.9 |\n"},
        ["import", "--study", "s.yaml", "--table", "t.md#2"],
        ["'t.md#2': 't.md' holds 1 Markdown table(s), numbered 1 to 1"],
    ),
    (
        "import-map-unknown-target",
        {"s.yaml": spec_text(), "t.csv": "lr,acc\n0.01,0.9\n"},
        ["import", "--study", "s.yaml", "--table", "t.csv", "--map", "lr=speed"],
        [
            "--map 'lr=speed': 'speed' is not something a column can hold for spec 'tiny-digits'; allowed: "
            "lr, batch_size"
        ],
    ),
    (
        "import-map-not-column-param",
        {"s.yaml": spec_text(), "t.csv": "lr,acc\n0.01,0.9\n"},
        ["import", "--study", "s.yaml", "--table", "t.csv", "--map", "lr"],
        ["--map 'lr' is not COLUMN=PARAM"],
    ),
    (
        "import-base-missing",
        {"s.yaml": spec_text(), "t.csv": "lr,acc\n0.01,0.9\n"},
        ["import", "--study", "s.yaml", "--table", "t.csv", "--base", "nope.yaml"],
        ["cannot read config file 'nope.yaml'"],
    ),
    (
        "import-base-unknown-parameter",
        {"s.yaml": spec_text(), "t.csv": "lr,acc\n0.01,0.9\n", "b.yaml": "colour: red\n"},
        ["import", "--study", "s.yaml", "--table", "t.csv", "--base", "b.yaml"],
        ["b.yaml: unknown parameter 'colour'"],
    ),
    # --- run --warm-start
    (
        "run-warm-start-unknown-study",
        {"s.yaml": spec_text()},
        ["run", "--study", "s.yaml", "--study-name", "new", "--warm-start", "ghost"],
        ["--warm-start: no study 'ghost' in storage 'sqlite:///autotune.db'"],
    ),
    (
        "run-warm-start-itself",
        {"s.yaml": spec_text()},
        ["run", "--study", "s.yaml", "--warm-start", "tiny-digits"],
        ["--warm-start tiny-digits: that is the study this run fills; give the new study another --study-name"],
    ),
    (
        "run-warm-start-other-budget",
        {"s.yaml": spec_text(max_epochs=5)},
        ["run", "--study", "s.yaml", "--study-name", "new", "--warm-start", "tiny-digits"],
        [
            "--warm-start: study 'tiny-digits' was run with max_epochs 3, this spec has 5; its values would "
            "not mean the "
            "same here"
        ],
    ),
    (
        "run-warm-start-no-name",
        {"s.yaml": spec_text()},
        ["run", "--study", "s.yaml", "--study-name", "new", "--warm-start", "@sqlite:///autotune.db"],
        ["--warm-start '@sqlite:///autotune.db': give STUDY or STUDY@STORAGE"],
    ),
    # --- slurm (--dry-run: the same checks whether or not sbatch is on this machine's PATH)
    (
        "slurm-sqlite-storage",
        {"s.yaml": spec_text()},
        ["slurm", "--study", "s.yaml", "--workers", "2", "--storage", "sqlite:///autotune.db", "--dry-run"],
        ["--storage sqlite:///autotune.db: workers on the cluster's nodes cannot share a local SQLite file"],
    ),
    (
        "slurm-no-workers",
        {"s.yaml": spec_text()},
        ["slurm", "--study", "s.yaml", "--workers", "0", "--dry-run"],
        ["--workers must be >= 1 (one array task each), got 0"],
    ),
    (
        "slurm-time-format",
        {"s.yaml": spec_text()},
        ["slurm", "--study", "s.yaml", "--workers", "2", "--time", "2h", "--dry-run"],
        ["--time '2h' is not [DAYS-]HH:MM:SS"],
    ),
    # --- GPUs for local workers
    (
        "run-trials-per-gpu-on-cpu",
        {"s.yaml": spec_text()},
        ["run", "--study", "s.yaml", "--workers", "2", "--trials-per-gpu", "2", "--device", "cpu"],
        ["--trials-per-gpu 2: the device is cpu; it needs CUDA GPUs"],
    ),
    ("dashboard-port", {}, ["dashboard", "--port", "70000"], ["'--port'", "70000 is not in the range 1<=x<=65535"]),
    ("dashboard-no-database", {}, ["dashboard", "--storage", "sqlite:///none.db"], ["no study database at 'none.db'"]),
]


@pytest.mark.parametrize("files, args, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(stored, tmp_path, monkeypatch, files, args, fragments):
    shutil.copy(stored / "autotune.db", tmp_path / "autotune.db")
    monkeypatch.setenv("AUTOTUNE_ARTIFACT_DIR", str(tmp_path / "artifacts"))
    for name, text in files.items():
        (tmp_path / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    before = file_digest(tmp_path / "autotune.db")
    listing = sorted(p.name for p in tmp_path.iterdir())
    result = invoke(*args)
    assert_one_error_line(result, *fragments)
    assert file_digest(tmp_path / "autotune.db") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no output folder, no 'pwned', nothing new


@pytest.mark.parametrize("how", ["spec", "option"])
def test_bf16_on_a_cpu_without_it_is_one_line_and_writes_nothing(stored, tmp_path, monkeypatch, bf16_here, how):
    bf16_here(False)
    shutil.copy(stored / "autotune.db", tmp_path / "autotune.db")
    monkeypatch.setenv("AUTOTUNE_ARTIFACT_DIR", str(tmp_path / "artifacts"))
    new = tmp_path / "new.db"
    (tmp_path / "s.yaml").write_text(spec_text(precision="bf16") if how == "spec" else spec_text())
    before = file_digest(tmp_path / "autotune.db")
    listing = sorted(p.name for p in tmp_path.iterdir())
    for storage in ("sqlite:///autotune.db", f"sqlite:///{new}"):  # a stored study, and one that does not exist
        args = ["run", "--study", "s.yaml", "--storage", storage] + (["--precision", "bf16"] if how == "option" else [])
        assert_one_error_line(
            invoke(*args), "precision 'bf16': this CPU has neither AVX-512 BF16 nor AMX; use precision fp32, or auto"
        )
    assert file_digest(tmp_path / "autotune.db") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no new database, no artifacts


@pytest.fixture(scope="module")
def stored_pg(postgres_server_url, tmp_path_factory):
    """A fresh PostgreSQL database holding the finished study 'tiny-digits', made once for the module."""
    with fresh_pg_database(postgres_server_url) as url:
        folder = tmp_path_factory.mktemp("stored-pg")
        (folder / "spec.yaml").write_text(yaml.safe_dump(SPEC, sort_keys=False))
        result = invoke(
            "run",
            "--study",
            str(folder / "spec.yaml"),
            "--storage",
            url,
            "--artifact-dir",
            str(folder / "artifacts"),
            "-q",
        )
        assert result.exit_code == 0, result.output
        yield url


def _rows(url: str) -> dict[str, list]:
    """Every row of every table: what 'row-identical' compares on PostgreSQL."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as con:
            tables = sqlalchemy.inspect(con).get_table_names()
            return {
                t: sorted(map(repr, con.execute(sqlalchemy.text(f'SELECT * FROM "{t}"')).fetchall())) for t in tables
            }
    finally:
        engine.dispose()


PG_CASES = [c for c in CASES if "--storage" not in c[2] and c[2][0] != "dashboard"]


@pytest.mark.parametrize("files, args, fragments", [c[1:] for c in PG_CASES], ids=[c[0] for c in PG_CASES])
def test_bad_input_on_postgresql(stored_pg, tmp_path, monkeypatch, files, args, fragments):
    monkeypatch.setenv("AUTOTUNE_STORAGE", stored_pg)  # every command's default storage
    monkeypatch.setenv("AUTOTUNE_ARTIFACT_DIR", str(tmp_path / "artifacts"))
    for name, text in files.items():
        (tmp_path / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    before = _rows(stored_pg)
    listing = sorted(p.name for p in tmp_path.iterdir())
    result = invoke(*args)
    assert_one_error_line(result, *(f.replace("'sqlite:///autotune.db'", "") for f in fragments))
    assert _rows(stored_pg) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing


def test_the_corpus_covers_every_command_with_at_least_40_cases():
    from autotune.cli.commands import cli

    assert len(CASES) >= 40
    assert {c[2][0] for c in CASES} == set(cli.commands)


def test_bad_postgresql_credentials_are_one_line_without_the_password(postgres_server_url, write_spec):
    from sqlalchemy.engine import make_url

    url = make_url(postgres_server_url).set(username="nosuchrole", password="pw-Sekret")
    text = url.render_as_string(hide_password=False)
    result = invoke("run", "--study", write_spec(SPEC), "--storage", text)
    assert_one_error_line(
        result, "cannot open storage 'postgresql+psycopg://nosuchrole:***@", 'role "nosuchrole" does not exist'
    )
    assert "pw-Sekret" not in result.output
