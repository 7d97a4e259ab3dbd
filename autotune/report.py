"""A self-contained report folder: index.html (offline), report.md, PNG figures, and their data.

Numbers come from :mod:`autotune.analysis`, figures from :mod:`autotune.plots`; this module
only lays them out. Every user-controlled string is HTML-escaped.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import Any

import optuna

from autotune import analysis, plots
from autotune.spec import StudySpec

COLUMNS = {  # the seed reports' trial table, in English and Chinese
    "number": ("No.", "编号"), "lr": ("Learning rate", "学习率"), "batch_size": ("Batch size", "Batch Size"),
    "structure": ("Structure", "网络结构"), "init": ("Initialisation", "初始化方法"),
    "train_loss": ("Train loss", "训练集Loss"), "val_accuracy": ("Validation accuracy (%)", "验证集准确率(%)"),
    "val_loss": ("Validation loss", "验证集Loss"), "state": ("State", "状态"), "remark": ("Remarks", "备注"),
}


def build_report(study: optuna.Study, spec: StudySpec, *, out_dir: str | Path, storage: str,
                 lang: str = "en", formats: tuple[str, ...] = ("html", "md")) -> dict[str, Any]:
    """Write the report folder and return what it contains (and what could not be computed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "data"
    data.mkdir(exist_ok=True)
    summ = analysis.summary(study, spec)
    summ["storage"] = storage
    rows = analysis.trial_rows(study)
    notes: list[str] = []
    n_complete = len(analysis.complete(study))
    if not study.trials:
        notes.append("The study has no trials yet.")
    elif n_complete == 0:
        notes.append("The study has no complete trial: no best value, importance or analysis.")
    imp = analysis.importances(study) if n_complete >= 2 else {
        "default": {"error": "needs at least 2 complete trials"}, "fanova": {"error": "needs at least 2 complete trials"}}
    for name, values in imp.items():
        if "error" in values:
            notes.append(f"Importance ({name}) not computed: {values['error']}.")
    eff = analysis.effects(study, spec)
    dw = analysis.depth_width(study, spec)
    practice = analysis.best_practice(spec, eff, imp)

    _write_json(data / "summary.json", summ)
    _write_json(data / "importance.json", imp)
    _write_json(data / "effects.json", eff)
    _write_json(data / "depth_width.json", dw)
    _write_csv(data / "trials.csv", rows)
    _write_json(data / "learning_curves.json",
                {t.number: {"state": t.state.name, "values": {str(k): v for k, v in sorted(t.intermediate_values.items())}}
                 for t in study.trials})

    figures: list[tuple[str, str, str]] = []  # (file, title, data file)
    if n_complete:
        ranked = [p for p in imp.get("fanova", {}) if p != "error"]
        for kind, title, kwargs in (
                ("optimization_history", "Optimisation history", {}),
                ("intermediate_values", "Learning curves (pruned trials included)", {}),
                ("parallel_coordinate", "Parallel coordinates (the six most important parameters by fANOVA)",
                 {"params": ranked[:6]} if len(ranked) >= 2 else {})):
            if plots.optuna_figure(kind, study, out / f"{kind}.png", **kwargs):
                figures.append((f"{kind}.png", title, "data/trials.csv" if kind != "intermediate_values"
                                else "data/learning_curves.json"))
        points = analysis.slice_points(study)
        _write_json(data / "slice.json", points)
        if plots.slice_grid(points, out / "slice.png", ylabel=spec.metric):
            figures.insert(2, ("slice.png", "Slice plot per parameter (complete trials)", "data/slice.json"))
        top = [p for p in imp.get("fanova", {}) if p != "error"][:2]
        if len(top) == 2 and plots.optuna_figure("contour", study, out / "contour.png", params=top):
            figures.append(("contour.png", f"Contour of the top two parameters ({top[0]}, {top[1]})", "data/trials.csv"))
        labels = {"default": "PED-ANOVA (Optuna's default)", "fanova": f"fANOVA (seeds {analysis.IMPORTANCE_SEEDS})"}
        if plots.importance_bars(imp, out / "importance.png", labels=labels):
            figures.append(("importance.png", "Hyperparameter importance", "data/importance.json"))
        if plots.heatmap([str(d) for d in dw["depths"]], [str(w) for w in dw["widths"]], dw["best"],
                         title=f"Best {spec.metric} by depth × width", xlabel=f"widest layer ({dw['per_layer']})",
                         ylabel="n_layers", path=out / "depth_width.png", percent=spec.metric == "val_accuracy"):
            figures.append(("depth_width.png", "Depth × width: best value per cell", "data/depth_width.json"))

    context = {"summary": summ, "rows": rows, "importance": imp, "effects": eff, "practice": practice,
               "figures": figures, "notes": notes, "lang": lang, "spec": spec}
    if "md" in formats:
        (out / "report.md").write_text(_markdown(context), encoding="utf-8")
    if "html" in formats:
        (out / "index.html").write_text(_html(context), encoding="utf-8")
    return {"out": str(out), "notes": notes, "figures": [f for f, _, _ in figures],
            "files": sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())}


# --------------------------------------------------------------------------------------


def _headers(lang: str) -> list[str]:
    i = 0 if lang == "en" else 1
    return [COLUMNS[k][i] for k in ("number", "lr", "batch_size", "structure", "init", "train_loss",
                                    "val_accuracy", "state", "remark")]


def _row_cells(row: dict[str, Any]) -> list[str]:
    def num(v: Any, digits: int = 4) -> str:
        return "-" if v is None else f"{v:.{digits}g}" if isinstance(v, float) else str(v)

    acc = row["val_accuracy"]
    return [str(row["number"]), num(row["lr"], 3), num(row["batch_size"]), row["structure"] or "-",
            row["init"] or "-", num(row["train_loss"]), "-" if acc is None else f"{acc * 100:.2f}",
            row["state"], row["remark"] or ""]


def _summary_lines(s: dict[str, Any]) -> list[str]:
    best = "-" if s["best_value"] is None else f"{s['best_value']:.4f} (trial {s['best_trial']})"
    saved = "-" if s["pruning_saved"] is None else f"{s['pruning_saved']:.0%}"
    return [
        f"Study: {s['study']} (spec {s['spec']}: {s['description']})",
        f"Data and model: {s['dataset']}, {s['model']}; metric {s['metric']} ({s['direction']})",
        f"Storage: {s['storage']}",
        "Trials by state: " + (", ".join(f"{k.lower()} {v}" for k, v in s["states"].items()) or "none"),
        f"Best {s['metric']}: {best}",
        "Best parameters: " + (", ".join(f"{k}={_short(v)}" for k, v in s["best_params"].items()) or "-"),
        f"Time spent: {s['trial_seconds']} s in trials, {s['wall_seconds'] if s['wall_seconds'] is not None else '-'} s "
        "from first start to last finish",
        f"Pruning: {s['epochs_trained']} epochs trained of {s['epochs_without_pruning']} a no-pruning run would "
        f"have used (saved {saved})",
    ]


def _effect_lines(ctx: dict[str, Any]) -> list[str]:
    pct = ctx["spec"].metric == "val_accuracy"
    lines = []
    for e in ctx["effects"]:
        diff = f"{e['difference'] * 100:+.2f} pp" if pct else f"{e['difference']:+.4g}"
        lines.append(f"{e['param']}: best {e['kind']} {e['best']} (mean {analysis.format_metric(e['best_mean'], pct)}, "
                     f"{e['best_n']} trials), worst {e['worst']} ({analysis.format_metric(e['worst_mean'], pct)}, "
                     f"{e['worst_n']} trials): difference {diff}.")
    return lines


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _markdown(ctx: dict[str, Any]) -> str:
    from autotune import tables

    s = ctx["summary"]
    parts = [f"# Report: {s['study']}\n", *(f"- {line}" for line in _summary_lines(s)), ""]
    parts += [f"> {n}" for n in ctx["notes"]]
    parts += ["\n## Trials\n", tables.markdown(_headers(ctx["lang"]), [_row_cells(r) for r in ctx["rows"]])]
    parts += ["## Hyperparameter importance\n"]
    for name, values in ctx["importance"].items():
        if "error" in values:
            parts.append(f"- {name}: not computed ({values['error']})")
            continue
        parts.append(f"- {name}: " + ", ".join(f"{p} {v['mean']:.3f} ± {v['std']:.3f}" for p, v in values.items()))
    parts += ["\n## Figures\n"] + [f"![{title}]({file}) (data: `{data}`)\n" for file, title, data in ctx["figures"]]
    parts += ["## Analysis\n", "Each line compares complete trials only; ranges are tertiles of the sampled values.\n"]
    parts += [f"- {line}" for line in _effect_lines(ctx)] or ["- Not enough complete trials."]
    parts += ["\n## Best practice (from these trials)\n"] + ([f"- {p}" for p in ctx["practice"]] or ["- -"])
    return "\n".join(parts) + "\n"


_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;width:100%}th,td{border:1px solid #ccc;padding:3px 6px}
th{background:#eef;cursor:pointer;position:sticky;top:0}tr:nth-child(even){background:#fafafa}
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}.note{background:#fff6d6;padding:.5em}
figure{margin:1.5em 0}figcaption{font-weight:600}"""
_JS = """document.querySelectorAll('table.sortable th').forEach((th,i)=>th.addEventListener('click',()=>{
const t=th.closest('table'),b=t.tBodies[0],rows=[...b.rows],asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
const v=r=>{const s=r.cells[i].textContent.trim(),n=parseFloat(s);return isNaN(n)?s:n};
rows.sort((a,c)=>{const x=v(a),y=v(c);return (x>y?1:x<y?-1:0)*(asc?1:-1)});rows.forEach(r=>b.appendChild(r))}));"""


def _html(ctx: dict[str, Any]) -> str:
    e = html.escape
    s = ctx["summary"]
    out = [f"<!doctype html><html lang='{e(ctx['lang'])}'><head><meta charset='utf-8'>",
           f"<title>Report: {e(s['study'])}</title><style>{_CSS}</style></head><body>",
           f"<h1>Report: {e(s['study'])}</h1><ul>"]
    out += [f"<li>{e(line)}</li>" for line in _summary_lines(s)] + ["</ul>"]
    out += [f"<p class='note'>{e(n)}</p>" for n in ctx["notes"]]
    out += ["<h2>Trials</h2><table class='sortable'><thead><tr>"]
    out += [f"<th>{e(h)}</th>" for h in _headers(ctx["lang"])] + ["</tr></thead><tbody>"]
    for row in ctx["rows"]:
        out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in _row_cells(row)) + "</tr>")
    out += ["</tbody></table><h2>Hyperparameter importance</h2><table><thead><tr><th>parameter</th>"]
    names = list(ctx["importance"])
    out += [f"<th>{e(n)} (mean ± std)</th>" for n in names] + ["</tr></thead><tbody>"]
    params = list(dict.fromkeys(p for n in names for p in ctx["importance"][n] if p != "error"))
    for p in params:
        cells = []
        for n in names:
            v = ctx["importance"][n].get(p)
            cells.append("-" if not isinstance(v, dict) else f"{v['mean']:.3f} ± {v['std']:.3f}")
        out.append(f"<tr><td>{e(p)}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    for file, title, data in ctx["figures"]:
        out.append(f"<figure><figcaption>{e(title)}</figcaption><img src='{e(file)}' alt='{e(title)}'>"
                   f"<div><a href='{e(data)}'>data</a></div></figure>")
    out += ["<h2>Analysis</h2><p>Each line compares complete trials only; ranges are tertiles of the sampled values.</p><ul>"]
    out += [f"<li>{e(line)}</li>" for line in _effect_lines(ctx)] + ["</ul><h2>Best practice (from these trials)</h2><ul>"]
    out += [f"<li>{e(p)}</li>" for p in ctx["practice"]] + [f"</ul><script>{_JS}</script></body></html>"]
    return "\n".join(out)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        if not rows:
            fh.write("")
            return
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
