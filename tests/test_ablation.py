"""Ablation on a real digits study: rows that are replays, the table in both languages."""

from __future__ import annotations

import json
from pathlib import Path

from autotune import configs, replays
from autotune.data import load_splits
from autotune.spec import parse_spec
from tests.conftest import invoke, stored_study as _study


def test_ablation_rows_match_replays(study_path):
    result = invoke("ablate", "--study", study_path, "--seeds", "2", "--epochs", "2", "--json", "--out", "abl")
    assert result.exit_code == 0, result.output
    data = json.loads(Path("abl/ablation.json").read_text())
    rows = data["rows"]
    spec = parse_spec(_study().user_attrs["spec"])
    best = configs.config_from_params(spec, _study().best_trial.params)
    baseline = configs.default_config(spec)
    diff = configs.components(spec, best, baseline)
    assert [r["kind"] for r in rows] == ["best", "baseline"] + ["leave-one-out"] * len(diff) + ["path"] * len(diff)
    assert sorted(r["component"] for r in rows if r["kind"] == "path") == sorted(diff)
    # the best row is exactly a replay of the best configuration with the same seeds
    splits = load_splits("digits", validation_size=spec.validation_size, seed=spec.seed)
    direct = replays.replay(spec, best, seeds=[r["seed"] for r in rows[0]["runs"]], epochs=2, splits=splits)
    assert [r["val_accuracy"] for r in rows[0]["runs"]] == direct.values("val_accuracy")
    for name in ("ablation.md", "ablation.csv", "ablation.png"):
        assert Path("abl", name).stat().st_size > 0
    md = Path("abl/ablation.md").read_text()
    assert "| Parameter | Configuration | Train loss | Train accuracy | Validation loss | Validation accuracy |" in md
    assert "Most critical component:" in md
    zh = invoke("ablate", "--study", study_path, "--seeds", "2", "--epochs", "2", "--lang", "zh", "--out", "abl-zh")
    assert "| 参数 | 实验配置 | 训练集Loss | 训练集准确率 | 验证集Loss | 验证集准确率 | 性能变化 |" in zh.stdout
    assert "基准" in zh.stdout
