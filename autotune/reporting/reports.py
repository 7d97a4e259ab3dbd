"""A self-contained report folder: index.html (offline), report.md, report.docx, PNG figures, and their data.

Numbers come from :mod:`autotune.analysis.summary`, figures from :mod:`autotune.reporting.figures`, sentences in the
report's language from :mod:`autotune.reporting.text`, the page as Markdown, HTML and Word from
:mod:`autotune.reporting.report_page`; this module computes what the report holds and writes the files.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import optuna

from autotune.analysis import ablation, confirmation, hand_compare, importance, stopping
from autotune.analysis import summary as analysis
from autotune.reporting import figures as report_figures
from autotune.reporting import interactive, plot_style, plots, report_page, text
from autotune.spec.study import StudySpec
from autotune.words import figures as ft
from autotune.words import i18n


def build_report(
    study: optuna.Study,
    spec: StudySpec,
    *,
    out_dir: str | Path,
    storage: str,
    lang: str = "en",
    formats: tuple[str, ...] = ("html", "md"),
) -> dict[str, Any]:
    """Write the report folder and return what it contains (and what could not be computed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "data"
    data.mkdir(exist_ok=True)
    summ = analysis.summary(study, spec)
    summ["storage"] = storage
    rows = analysis.trial_rows(study, spec)  # every trial, hand rows marked
    notes: list[str] = []
    hand_rows = [t for t in analysis.complete(study) if analysis.by_hand(t)]
    table_study = study
    study = analysis.own_trials(study)  # importance and analysis: autotune's own trials, one declared set
    n_complete = len(analysis.complete(study))
    if hand_rows:
        notes.append(i18n.say(lang, "trial_set", n=n_complete, hand=len(hand_rows)))
    if not table_study.trials:
        notes.append(i18n.say(lang, "no_trials"))
    elif n_complete == 0:
        notes.append(i18n.say(lang, "no_complete"))
    too_few = {"default": {"error": i18n.say(lang, "needs_two")}, "fanova": {"error": i18n.say(lang, "needs_two")}}
    # one importance table per objective (a single-objective study has one, under its metric)
    by_objective = {
        m: (
            importance.importances(study, objective=i if spec.multi_objective else None) if n_complete >= 2 else too_few
        )
        for i, m in enumerate(spec.metrics)
    }
    imp = by_objective[spec.metric]
    searched = sorted({p for t in analysis.complete(study) for p in t.params})
    for metric, table in by_objective.items():
        for name, values in table.items():
            what = f"{name}, {metric}" if spec.multi_objective else name
            if "error" in values:
                notes.append(i18n.say(lang, "importance_missing", what=what, error=values["error"]))
            elif [p for p in searched if p not in values]:
                notes.append(
                    i18n.say(
                        lang,
                        "importance_left_out",
                        what=what,
                        params=i18n.say(lang, "sep").join(p for p in searched if p not in values),
                    )
                )
    front = analysis.pareto(study, spec)
    if spec.multi_objective:
        notes.append(i18n.say(lang, "multi_note", metric=spec.metric))
    eff = analysis.effects(study, spec)
    _, basis = analysis.evidence(study, spec)
    tied = analysis.confounded(study, spec)
    dw = analysis.depth_width(study, spec)
    practice = analysis.best_practice(spec, eff, imp, lang=lang)
    confirmed = None if spec.multi_objective else confirmation.stored(study)
    stop = stopping.stored(study)
    hand = hand_compare.numbers(table_study, spec)  # None unless hand-table trials were imported
    if stop:  # the search ended at the noise floor, not at its target: the first thing a reader must know
        target = study.user_attrs.get("target_trials", stop["target"])
        notes.insert(0, stopping.line(stop, finished=len(analysis.finished(table_study)), target=target, lang=lang))

    _write_json(data / "summary.json", summ)
    _write_json(data / "importance.json", by_objective if spec.multi_objective else imp)
    if spec.multi_objective:
        _write_json(data / "pareto.json", front)
        _write_csv(
            data / "pareto.csv",
            [
                {k: v for k, v in p.items() if k != "params"} | {f"param_{k}": v for k, v in p["params"].items()}
                for p in front
            ],
        )
    _write_json(data / "effects.json", eff)
    _write_json(data / "depth_width.json", dw)
    if confirmed:
        _write_json(data / "confirmation.json", confirmed)
    if hand:
        _write_json(data / "hand_vs_auto.json", hand)
    _write_csv(data / "trials.csv", rows)
    _write_json(
        data / "learning_curves.json",
        {
            t.number: {"state": t.state.name, "values": {str(k): v for k, v in sorted(t.intermediate_values.items())}}
            for t in table_study.trials
        },
    )

    figures: list[tuple[str, str, str]] = []  # (file, caption, data file)
    interactive: dict[str, str] = {}  # PNG file -> its interactive version (an HTML fragment)
    if n_complete:
        figures = report_figures.draw(
            study, spec, out, by_objective=by_objective, depth_width=dw, lang=lang, notes=notes
        )
        interactive = _interactive(study, spec, imp, by_objective, lang)
    if confirmed and plot_style.save(plots.confirmation_chart(confirmed, lang=lang), out / "confirmation.png"):
        figures.insert(
            0, ("confirmation.png", ft.word("cap_confirmation", lang, n=confirmed["seeds"]), "data/confirmation.json")
        )

    context = {
        "summary": summ,
        "rows": rows,
        "importance": by_objective,
        "effects": eff,
        "practice": practice,
        "basis": basis,
        "confounded": tied,
        "confirmation": confirmed,
        "figures": figures,
        "notes": notes,
        "lang": lang,
        "spec": spec,
        "pareto": front,
        "interactive": interactive,
        "plotly_js": _plotly_js() if interactive else None,
        "n_complete": n_complete,
        "hand": hand,
    }
    page = report_page.page(context)
    if "md" in formats:
        (out / "report.md").write_text(report_page.markdown(page), encoding="utf-8")
    if "html" in formats:
        (out / "index.html").write_text(report_page.html(page), encoding="utf-8")
    document = None
    if "docx" in formats:
        target = int(table_study.user_attrs.get("target_trials", spec.trials))
        document = report_page.docx(
            page,
            out / "report.docx",
            setup=text.setup_rows(spec, summ["study"], target, lang, text.environment(table_study)),
            rows=rows,
            spec=spec,
            ablations=ablation.stored(table_study),
        )
    return {
        "out": str(out),
        "notes": notes,
        "figures": [f for f, _, _ in figures],
        "interactive": interactive,
        "files": sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()),
        "document": document,
    }


def _interactive(
    study: optuna.Study, spec: StudySpec, imp: dict[str, Any], by_objective: dict[str, Any], lang: str
) -> dict[str, str]:
    """PNG file name -> an interactive (plotly) version of that figure, as an HTML fragment."""

    return interactive.figures(
        study,
        spec,
        ranked_params=[p for p in imp.get("fanova", {}) if p != "error"],
        lang=lang,
        importance_tables=by_objective,
    )


def _plotly_js() -> str:
    """plotly.js, embedded once in the page so that its interactive figures work offline."""

    return interactive.plotly_js()


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
