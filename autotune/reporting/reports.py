"""A self-contained report folder: index.html (offline), report.md, report.docx, PNG figures, and their data.

Numbers come from :mod:`autotune.analysis.summary`, figures from :mod:`autotune.reporting.figures`, sentences in the
report's language from :mod:`autotune.reporting.text`; this module writes the files. The page is
rendered from ``templates/report.html.j2`` by Jinja2 with autoescaping, so no value can reach the
HTML unescaped by omission.
"""

from __future__ import annotations

import csv
import functools
import json
from pathlib import Path
from typing import Any

import optuna

from autotune.analysis import ablation, confirmation, hand_compare, importance, stopping
from autotune.analysis import summary as analysis
from autotune.reporting import figures as report_figures
from autotune.reporting import interactive, plot_style, plots, text
from autotune.reporting.documents import Document
from autotune.spec.study import StudySpec
from autotune.words import figures as ft
from autotune.words import i18n, tables


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
    page = _page(context)
    if "md" in formats:
        (out / "report.md").write_text(_markdown(page), encoding="utf-8")
    if "html" in formats:
        (out / "index.html").write_text(_html(page), encoding="utf-8")
    document = None
    if "docx" in formats:
        target = int(table_study.user_attrs.get("target_trials", spec.trials))
        document = _docx(
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


# --------------------------------------------------------------------------------------


def _page(ctx: dict[str, Any]) -> dict[str, Any]:
    """Everything the report says, in its language: one source for report.md and index.html."""
    lang, spec, s = ctx["lang"], ctx["spec"], ctx["summary"]
    say = functools.partial(i18n.say, lang)
    pareto = None
    if spec.multi_objective:
        heads, body = text.pareto_table(spec, ctx["pareto"], lang)
        pareto = {
            "heading": say("h_pareto"),
            "intro": say("pareto_intro"),
            "heads": heads,
            "body": body,
            "empty": say("pareto_empty"),
        }
    interactive = ctx.get("interactive") or {}
    confirmed = ctx.get("confirmation")
    heads, body = confirmation.table_parts(confirmed, lang) if confirmed else ([], [])
    return {
        "confirmation": {
            "heading": say("h_confirmation"),
            "heads": heads,
            "body": body,
            "lines": confirmation.lines(confirmed, lang),
        }
        if confirmed
        else None,
        "lang": lang,
        "title": say("title", study=s["study"]),
        "summary": _summary(s, confirmed, lang),
        "notes": ctx["notes"],
        "pareto": pareto,
        "trials": {
            "heading": say("h_trials"),
            "heads": text.headers(lang, spec),
            "body": [text.row_cells(r, spec, lang) for r in ctx["rows"]],
        },
        "hand": {"heading": say("h_hand"), "lines": hand_compare.lines(ctx["hand"], lang)} if ctx.get("hand") else None,
        "importance": text.importance_tables(spec, ctx["importance"], lang, n_complete=ctx["n_complete"]),
        "figures_heading": say("h_figures"),
        "data_word": say("data"),
        "figures": [
            {"file": f, "title": title, "data": data, "interactive": interactive.get(f)}
            for f, title, data in ctx["figures"]
        ],
        "analysis": {
            "heading": say("h_analysis"),
            "intro": text.analysis_intro(ctx["basis"], lang),
            "lines": text.effect_lines(spec, ctx["effects"], ctx["confounded"], lang),
            "empty": say("not_enough"),
        },
        "practice": {
            "heading": say("h_practice")
            if analysis.practice_supported(ctx["importance"].get(ctx["spec"].metric, {}), ctx["n_complete"])
            else say("h_leads", n=ctx["n_complete"], min=analysis.PRACTICE_MIN_TRIALS),
            "lines": ctx["practice"],
        },
        "plotly_js": ctx.get("plotly_js") if interactive else None,
    }


def _summary(s: dict[str, Any], confirmed: dict[str, Any] | None, lang: str) -> list[str]:
    """The summary lines; a confirmation's best mean goes right after the single-seed best parameters."""
    lines = text.summary_lines(s, lang)
    extra = text.confirmed_line(confirmed, lang) if confirmed else None
    if extra:
        at = next(
            (i + 1 for i, line in enumerate(lines) if line.startswith(i18n.say(lang, "best_params_line", params=""))),
            len(lines),
        )
        lines.insert(at, extra)
    return lines


def _markdown(page: dict[str, Any]) -> str:

    parts = [f"# {page['title']}\n", *(f"- {line}" for line in page["summary"]), ""]
    parts += [f"> {n}" for n in page["notes"]]
    if page["confirmation"]:
        c = page["confirmation"]
        parts += [
            f"\n## {c['heading']}\n",
            tables.markdown(c["heads"], c["body"]),
            *(f"- {line}" for line in c["lines"]),
        ]
    if page["pareto"]:
        p = page["pareto"]
        parts += [
            f"\n## {p['heading']}\n",
            p["intro"] + "\n",
            tables.markdown(p["heads"], p["body"]) if p["body"] else p["empty"] + "\n",
        ]
    parts += [f"\n## {page['trials']['heading']}\n", tables.markdown(page["trials"]["heads"], page["trials"]["body"])]
    if page["hand"]:
        parts += [f"## {page['hand']['heading']}\n", *(f"- {line}" for line in page["hand"]["lines"]), ""]
    for imp in page["importance"]:
        parts += [f"## {imp['heading']}\n", *(f"> {line}" for line in imp["missing"])]
        parts += [tables.markdown(imp["heads"], imp["body"]) if imp["body"] else ""]
        parts += [f"{line}\n" for line in imp["lines"]]
    parts += [f"\n## {page['figures_heading']}\n"]
    parts += [
        f"![{f['title']}]({f['file']}) ({i18n.say(page['lang'], 'data_link', file=f['data'])})\n"
        for f in page["figures"]
    ]
    a = page["analysis"]
    parts += [f"## {a['heading']}\n", a["intro"] + "\n"]
    parts += [f"- {line}" for line in a["lines"]] or [f"- {a['empty']}"]
    parts += [f"\n## {page['practice']['heading']}\n"] + ([f"- {p}" for p in page["practice"]["lines"]] or ["- -"])
    return "\n".join(parts) + "\n"


def _html(page: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("autotune", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2").render(**page)


#: The most trials the Word document's trial table lists; a larger study lists its best, and says so
DOCX_MAX_TRIALS = 100


def _docx(
    page: dict[str, Any],
    path: Path,
    *,
    setup: list[list[str]],
    rows: list[dict[str, Any]],
    spec: StudySpec,
    ablations: dict[str, dict[str, Any]],
) -> str:
    """The report as a Word document in the seed reports' order: set-up, results in brief, the trial table, the
    confirmation, the ablation, importance, figures with numbered captions, analysis. Its cells are the page's."""

    lang = page["lang"]
    say = functools.partial(i18n.say, lang)
    doc = Document(lang)
    doc.title(page["title"])
    doc.heading(say("h_setup"))
    doc.table([say("setup_item"), say("setup_value")], setup, caption=say("setup_caption"))
    doc.heading(say("h_summary"))
    doc.bullets(page["summary"])
    for note in page["notes"]:
        doc.paragraph(note, italic=True)
    trials = page["trials"]
    body, caption = trials["body"], say("trials_caption", n=len(rows))
    if len(rows) > DOCX_MAX_TRIALS:  # the best by the study's goal (a trial without a value last), in trial order
        sign = -1 if spec.direction == "maximize" else 1
        ranked = sorted(range(len(rows)), key=lambda i: (rows[i]["value"] is None, sign * (rows[i]["value"] or 0)))
        keep = sorted(ranked[:DOCX_MAX_TRIALS])
        body = [body[i] for i in keep]
        caption = say("trials_caption_top", top=DOCX_MAX_TRIALS, n=len(rows), metric=spec.metric)
    doc.heading(trials["heading"], landscape=doc.needs_landscape(trials["heads"], body))
    doc.table(trials["heads"], body, caption=caption, wide=True)
    if page["confirmation"]:
        c = page["confirmation"]
        doc.heading(c["heading"], landscape=doc.needs_landscape(c["heads"], c["body"]))
        doc.table(c["heads"], c["body"], caption=c["heading"], wide=True)
        doc.bullets(c["lines"])
    if page["pareto"]:
        p = page["pareto"]
        doc.heading(p["heading"], landscape=doc.needs_landscape(p["heads"], p["body"]))
        doc.paragraph(p["intro"])
        if p["body"]:
            doc.table(p["heads"], p["body"], caption=p["heading"], wide=True)
        else:
            doc.paragraph(p["empty"])
    if lang in ablations:
        a = ablations[lang]
        doc.heading(say("h_ablation"), landscape=doc.needs_landscape(a["heads"], a["body"]))
        if a.get("note"):  # a reduced budget: said before the rows are read
            doc.paragraph(a["note"], italic=True)
        doc.table(a["heads"], a["body"], caption=a["caption"], wide=True)
        doc.paragraph(a["key"])
        doc.bullets(a["verdict"])
    elif ablations:
        doc.heading(say("h_ablation"))
        doc.paragraph(say("ablation_other_lang", langs=", ".join(sorted(ablations)), lang=lang))
    if page["hand"]:
        doc.heading(page["hand"]["heading"])
        doc.bullets(page["hand"]["lines"])
    for imp in page["importance"]:
        doc.heading(imp["heading"])
        for line in imp["missing"]:
            doc.paragraph(line, italic=True)
        if imp["body"]:
            doc.table(imp["heads"], imp["body"], caption=imp["heading"])
        for line in imp["lines"]:
            doc.paragraph(line)
    if page["figures"]:
        doc.heading(page["figures_heading"])
        for figure in page["figures"]:
            doc.figure(path.parent / figure["file"], figure["title"])
    a = page["analysis"]
    doc.heading(a["heading"])
    doc.paragraph(a["intro"])
    doc.bullets(a["lines"] or [a["empty"]])
    doc.heading(page["practice"]["heading"])
    doc.bullets(page["practice"]["lines"] or ["-"])
    return doc.save(path)


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
