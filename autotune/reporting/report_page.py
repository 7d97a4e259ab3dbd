"""A report's page: everything the report says, in its language, gathered once (:func:`page`) and written as
Markdown (report.md), HTML (index.html) and Word (report.docx, in the seed reports' order). The page is rendered
from ``templates/report.html.j2`` by Jinja2 with autoescaping, so no value can reach the HTML unescaped by
omission. :mod:`autotune.reporting.reports` computes the numbers and writes the folder.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from autotune.analysis import confirmation, hand_compare
from autotune.analysis import summary as analysis
from autotune.reporting import text
from autotune.reporting.documents import Document
from autotune.spec.study import StudySpec
from autotune.words import i18n, tables


def page(ctx: dict[str, Any]) -> dict[str, Any]:
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


def markdown(page: dict[str, Any]) -> str:

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


def html(page: dict[str, Any]) -> str:
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


def docx(
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
