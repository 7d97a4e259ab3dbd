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
from autotune.tables import short

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
    rows = analysis.trial_rows(study, spec)
    notes: list[str] = []
    n_complete = len(analysis.complete(study))
    if not study.trials:
        notes.append("The study has no trials yet.")
    elif n_complete == 0:
        notes.append("The study has no complete trial: no best value, importance or analysis.")
    too_few = {"default": {"error": "needs at least 2 complete trials"},
               "fanova": {"error": "needs at least 2 complete trials"}}
    # one importance table per objective (a single-objective study has one, under its metric)
    by_objective = {m: (analysis.importances(study, objective=i if spec.multi_objective else None)
                        if n_complete >= 2 else too_few) for i, m in enumerate(spec.metrics)}
    imp = by_objective[spec.metric]
    for metric, table in by_objective.items():
        for name, values in table.items():
            if "error" in values:
                what = f"{name}, {metric}" if spec.multi_objective else name
                notes.append(f"Importance ({what}) not computed: {values['error']}.")
    front = analysis.pareto(study, spec)
    if spec.multi_objective:
        notes.append(f"Multi-objective study: no trial was pruned (Optuna's pruners need one objective); the "
                     f"per-parameter analysis below uses the first objective, {spec.metric}.")
    eff = analysis.effects(study, spec)
    _, basis = analysis.evidence(study, spec)
    tied = analysis.confounded(study, spec)
    dw = analysis.depth_width(study, spec)
    practice = analysis.best_practice(spec, eff, imp)

    _write_json(data / "summary.json", summ)
    _write_json(data / "importance.json", by_objective if spec.multi_objective else imp)
    if spec.multi_objective:
        _write_json(data / "pareto.json", front)
        _write_csv(data / "pareto.csv", [{k: v for k, v in p.items() if k != "params"}
                                         | {f"param_{k}": v for k, v in p["params"].items()} for p in front])
    _write_json(data / "effects.json", eff)
    _write_json(data / "depth_width.json", dw)
    _write_csv(data / "trials.csv", rows)
    _write_json(data / "learning_curves.json",
                {t.number: {"state": t.state.name, "values": {str(k): v for k, v in sorted(t.intermediate_values.items())}}
                 for t in study.trials})

    figures: list[tuple[str, str, str]] = []  # (file, title, data file)
    if n_complete:
        ranked = [p for p in imp.get("fanova", {}) if p != "error"]
        # several objectives: Optuna's single-value plots show the first (primary) one
        primary = {"target": lambda t: t.values[0], "target_name": spec.metric} if spec.multi_objective else {}
        if spec.multi_objective and plots.optuna_figure("pareto_front", study, out / "pareto_front.png",
                                                        target_names=list(spec.metrics)):
            figures.append(("pareto_front.png", "Pareto front (infeasible trials greyed)", "data/pareto.csv"))
        for kind, title, kwargs in (
                ("optimization_history", "Optimisation history (complete trials; pruned ones are in the learning "
                 "curves)", primary),
                ("intermediate_values", "Learning curves (pruned trials included)", {}),
                ("parallel_coordinate", "Parallel coordinates (the six most important parameters by fANOVA)",
                 {**primary, **({"params": ranked[:6]} if len(ranked) >= 2 else {})})):
            if kind == "intermediate_values" and spec.multi_objective:
                continue  # nothing is reported per epoch in a multi-objective study
            if plots.optuna_figure(kind, study, out / f"{kind}.png", metric=spec.metric, **kwargs):
                figures.append((f"{kind}.png", title, "data/trials.csv" if kind != "intermediate_values"
                                else "data/learning_curves.json"))
        points = analysis.slice_points(study)
        _write_json(data / "slice.json", points)
        if plots.slice_grid(points, out / "slice.png", ylabel=spec.metric):
            figures.insert(2, ("slice.png", "Slice plot per parameter (complete trials)", "data/slice.json"))
        top = [p for p in imp.get("fanova", {}) if p != "error"][:2]
        if len(top) == 2 and plots.optuna_figure("contour", study, out / "contour.png", params=top, **primary):
            figures.append(("contour.png", f"Contour of the top two parameters ({top[0]}, {top[1]})", "data/trials.csv"))
        labels = {"default": "PED-ANOVA (Optuna's default)", "fanova": f"fANOVA (seeds {analysis.IMPORTANCE_SEEDS})"}
        for metric, table in by_objective.items():
            name = f"importance_{metric}.png" if spec.multi_objective else "importance.png"
            if plots.importance_bars(table, out / name, labels=labels):
                figures.append((name, "Hyperparameter importance" + (f" for {metric}" if spec.multi_objective else ""),
                                "data/importance.json"))
        if plots.heatmap([str(d) for d in dw["depths"]], [str(w) for w in dw["widths"]], dw["best"],
                         title=f"Best {spec.metric} by depth × width", xlabel=f"widest layer ({dw['per_layer']})",
                         ylabel="n_layers", path=out / "depth_width.png", percent=spec.metric == "val_accuracy"):
            figures.append(("depth_width.png", "Depth × width: best value per cell", "data/depth_width.json"))

    context = {"summary": summ, "rows": rows, "importance": by_objective, "effects": eff, "practice": practice,
               "basis": basis, "confounded": tied,
               "figures": figures, "notes": notes, "lang": lang, "spec": spec, "pareto": front}
    if "md" in formats:
        (out / "report.md").write_text(_markdown(context), encoding="utf-8")
    if "html" in formats:
        (out / "index.html").write_text(_html(context), encoding="utf-8")
    return {"out": str(out), "notes": notes, "figures": [f for f, _, _ in figures],
            "files": sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())}


# --------------------------------------------------------------------------------------


def _extra_metrics(spec: StudySpec) -> list[str]:
    """Objectives beyond the seed reports' columns (multi-objective studies)."""
    return [m for m in spec.metrics if m not in ("val_accuracy", "val_loss")]


def _headers(lang: str, spec: StudySpec) -> list[str]:
    i = 0 if lang == "en" else 1
    extra = _extra_metrics(spec) + (["feasible"] if spec.constraints else [])
    return [COLUMNS[k][i] for k in ("number", "lr", "batch_size", "structure", "init", "train_loss",
                                    "val_accuracy")] + extra + [COLUMNS[k][i] for k in ("state", "remark")]


def _row_cells(row: dict[str, Any], spec: StudySpec) -> list[str]:
    def num(v: Any, digits: int = 4) -> str:
        return "-" if v is None else f"{v:.{digits}g}" if isinstance(v, float) else str(v)

    acc = row["val_accuracy"]
    extra = [num(row[m]) for m in _extra_metrics(spec)] + (["yes" if row["feasible"] else "no"]
                                                            if spec.constraints else [])
    return [str(row["number"]), num(row["lr"], 3), num(row["batch_size"]), row["structure"] or "-",
            row["init"] or "-", num(row["train_loss"]), "-" if acc is None else f"{acc * 100:.2f}",
            *extra, row["state"], row["remark"] or ""]


def _pareto_table(ctx: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    metrics = list(ctx["spec"].metrics)
    body = [[str(p["number"]), *(short(p[m]) for m in metrics),
             ", ".join(f"{k}={short(v)}" for k, v in p["params"].items())] for p in ctx["pareto"]]
    return ["trial", *metrics, "parameters"], body


def _summary_lines(s: dict[str, Any]) -> list[str]:
    best = "-" if s["best_value"] is None else f"{s['best_value']:.4f} (trial {s['best_trial']})"
    saved = "-" if s["pruning_saved"] is None else f"{s['pruning_saved']:.0%}"
    multi = len(s["objectives"]) > 1
    listed = ", ".join(f"{o['metric']} ({o['direction']})" for o in s["objectives"])
    goal = f"objectives {listed}" if multi else f"metric {s['metric']} ({s['direction']})"
    lines = [
        f"Study: {s['study']} (spec {s['spec']}: {s['description']})",
        f"Data and model: {s['dataset']}, {s['model']}; {goal}",
        f"Storage: {s['storage']}",
        "Trials by state: " + (", ".join(f"{k.lower()} {v}" for k, v in s["states"].items()) or "none"),
    ]
    if s["constraints"]:
        infeasible = ", ".join(map(str, s["infeasible"])) or "none"
        lines.append(f"Constraints: {'; '.join(s['constraints'])}: {s['feasible']} complete trials feasible, "
                     f"infeasible: {infeasible}")
    if not multi:
        lines += [f"Best {s['metric']}: {best}",
                  "Best parameters: " + (", ".join(f"{k}={short(v)}" for k, v in s["best_params"].items()) or "-")]
    lines += [
        f"Time spent: {s['trial_seconds']} s in trials, {s['wall_seconds'] if s['wall_seconds'] is not None else '-'} s "
        "from first start to last finish",
        f"Pruning: {s['epochs_trained']} epochs trained of {s['epochs_without_pruning']} a no-pruning run would "
        f"have used (saved {saved})",
    ]
    return lines


def _analysis_intro(ctx: dict[str, Any]) -> str:
    return (f"Each line compares {ctx['basis']}; a value or range is named best or worst only when at least "
            f"{analysis.MIN_PER_GROUP} trials back it; ranges are tertiles of the sampled values. Trials differ in "
            "every parameter at once, so each line mixes in the others' effects: treat these as leads to test "
            "(autotune sweep, autotune ablate), not findings.")


def _effect_lines(ctx: dict[str, Any]) -> list[str]:
    pct = ctx["spec"].metric == "val_accuracy"
    lines = [f"{a} and {b} took the same values in the same trials, so their effects cannot be told apart "
             "from these trials." for a, b in ctx["confounded"]]
    for e in ctx["effects"]:
        if e["too_few"]:
            counts = ", ".join(f"{k}: {g['n']}" for k, g in e["groups"].items())
            lines.append(f"{e['param']}: too few trials to tell (trials per {e['kind']}: {counts}; "
                         f"{analysis.MIN_PER_GROUP} needed).")
            continue
        diff = f"{e['difference'] * 100:+.2f} pp" if pct else f"{e['difference']:+.4g}"
        lines.append(f"{e['param']}: best {e['kind']} {e['best']} (mean {analysis.format_metric(e['best_mean'], pct)}, "
                     f"{e['best_n']} trials), worst {e['worst']} ({analysis.format_metric(e['worst_mean'], pct)}, "
                     f"{e['worst_n']} trials): difference {diff}.")
    return lines


#: How each importance column was computed (PED-ANOVA is deterministic: one run, no spread to show).
IMPORTANCE_RUNS = {"default": "PED-ANOVA, one deterministic run", "fanova": "mean ± std over 3 evaluator seeds"}


def _importance_cell(value: dict[str, Any]) -> str:
    return f"{value['mean']:.3f}" + ("" if value["std"] is None else f" ± {value['std']:.3f}")


def _importance_tables(ctx: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(heading suffix, {evaluator: {param: mean/std}}) per objective."""
    multi = ctx["spec"].multi_objective
    return [(f" for {m}" if multi else "", table) for m, table in ctx["importance"].items()]


def _markdown(ctx: dict[str, Any]) -> str:
    from autotune import tables

    s, spec = ctx["summary"], ctx["spec"]
    parts = [f"# Report: {s['study']}\n", *(f"- {line}" for line in _summary_lines(s)), ""]
    parts += [f"> {n}" for n in ctx["notes"]]
    if spec.multi_objective:
        heads, body = _pareto_table(ctx)
        parts += ["\n## Pareto front\n", "The non-dominated feasible trials (Optuna's `study.best_trials`).\n",
                  tables.markdown(heads, body) if body else "No complete feasible trial yet.\n"]
    parts += ["\n## Trials\n", tables.markdown(_headers(ctx["lang"], spec), [_row_cells(r, spec) for r in ctx["rows"]])]
    for suffix, table in _importance_tables(ctx):
        parts += [f"## Hyperparameter importance{suffix}\n"]
        for name, values in table.items():
            if "error" in values:
                parts.append(f"- {name}: not computed ({values['error']})")
                continue
            parts.append(f"- {name}: " + ", ".join(f"{p} {_importance_cell(v)}" for p, v in values.items()))
        parts.append("")
    parts += ["\n## Figures\n"] + [f"![{title}]({file}) (data: `{data}`)\n" for file, title, data in ctx["figures"]]
    parts += ["## Analysis\n", _analysis_intro(ctx) + "\n"]
    parts += [f"- {line}" for line in _effect_lines(ctx)] or ["- Not enough trials."]
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
    s, spec = ctx["summary"], ctx["spec"]
    out = [f"<!doctype html><html lang='{e(ctx['lang'])}'><head><meta charset='utf-8'>",
           f"<title>Report: {e(s['study'])}</title><style>{_CSS}</style></head><body>",
           f"<h1>Report: {e(s['study'])}</h1><ul>"]
    out += [f"<li>{e(line)}</li>" for line in _summary_lines(s)] + ["</ul>"]
    out += [f"<p class='note'>{e(n)}</p>" for n in ctx["notes"]]
    if spec.multi_objective:
        heads, body = _pareto_table(ctx)
        out += ["<h2>Pareto front</h2><p>The non-dominated feasible trials (Optuna's study.best_trials).</p>",
                _html_table(heads, body)]
    out += ["<h2>Trials</h2>", _html_table(_headers(ctx["lang"], spec), [_row_cells(r, spec) for r in ctx["rows"]])]
    for suffix, table in _importance_tables(ctx):
        names = list(table)
        params = list(dict.fromkeys(p for n in names for p in table[n] if p != "error"))
        body = [[p] + ["-" if not isinstance(table[n].get(p), dict)
                       else _importance_cell(table[n][p]) for n in names] for p in params]
        out += [f"<h2>Hyperparameter importance{e(suffix)}</h2>",
                _html_table(["parameter"] + [f"{n} ({IMPORTANCE_RUNS.get(n, 'mean ± std')})" for n in names], body,
                            sortable=False)]
    for file, title, data in ctx["figures"]:
        out.append(f"<figure><figcaption>{e(title)}</figcaption><img src='{e(file)}' alt='{e(title)}'>"
                   f"<div><a href='{e(data)}'>data</a></div></figure>")
    out += [f"<h2>Analysis</h2><p>{e(_analysis_intro(ctx))}</p><ul>"]
    out += [f"<li>{e(line)}</li>" for line in _effect_lines(ctx)] + ["</ul><h2>Best practice (from these trials)</h2><ul>"]
    out += [f"<li>{e(p)}</li>" for p in ctx["practice"]] + [f"</ul><script>{_JS}</script></body></html>"]
    return "\n".join(out)


def _html_table(heads: list[str], body: list[list[str]], *, sortable: bool = True) -> str:
    """A table with every cell escaped (cells carry user-controlled text)."""
    e = html.escape
    rows = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>\n" for row in body)
    attrs = " class='sortable'" if sortable else ""
    return (f"<table{attrs}><thead><tr>"
            + "".join(f"<th>{e(h)}</th>" for h in heads) + f"</tr></thead><tbody>\n{rows}</tbody></table>")


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        if not rows:
            fh.write("")
            return
        # rows may differ in keys (conditional parameters such as units_l2): the union, in first-seen order
        writer = csv.DictWriter(fh, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
        writer.writeheader()
        writer.writerows(rows)
