"""The director's impact report, its CSV files and leadership summary; the retrospective; the program page."""

from __future__ import annotations

import csv
import io

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user

from portal.access import director, signed_in
from portal.errors import NotFound
from portal.nudges.roster import spreadsheet_safe
from portal.programs.services import current_cycle
from portal.reports import bp
from portal.reports.charts import bar_chart
from portal.reports.forms import SponsorForm
from portal.reports.measures import DEFINITIONS, Figure
from portal.reports.services import (
    LEVEL_WORDS,
    LEVELS,
    answer_retrospective,
    cycle_report,
    default_report_cycle,
    next_cycle,
    program_numbers,
    report_cycles,
    retrospective_for,
    skip_retrospective,
    sponsor_message,
    write_sponsor_message,
)
from portal.web import errors_onto, render

# Tables drawn as bar charts, and the factor from a stored value to what is drawn (rates as percentages).
CHARTS = {
    "funnel": 1,
    "meetings_per_pair": 1,
    "objectives": 100,
    "skills": 1,
    "growth": 1,
    "checkin_first": 1,
    "pulses": 1,
    "closing_reasons": 1,
}


def _report_cycle(cycle_id: int | None):
    """The report's cycle: the one asked for, else the current one, else the newest started.

    Raises NotFound for an unknown or not yet started cycle.
    """
    cycles = report_cycles()
    if cycle_id is None:
        chosen = default_report_cycle(cycles)
    else:
        chosen = next((c for c in cycles if c.id == cycle_id), None)
        if chosen is None:
            raise NotFound()
    return chosen, cycles


def _cycle_arg() -> int | None:
    value = request.args.get("cycle", "")
    if not value:
        return None
    if not value.isdigit():
        raise NotFound()
    return int(value)


@bp.route("/")
@director
def index():
    cycle, cycles = _report_cycle(_cycle_arg())
    if cycle is None:
        return render("reports/index.html", "reports/_report.html", report=None, cycles=[], charts={})
    report = cycle_report(cycle, cycles)
    charts = {key: bar_chart(report.tables[key], scale=scale) for key, scale in CHARTS.items()}
    return render(
        "reports/index.html",
        "reports/_report.html",
        report=report,
        cycles=cycles,
        charts=charts,
        definitions=DEFINITIONS,
    )


@bp.route("/cycles/<int:cycle_id>/summary")
@director
def summary(cycle_id: int):
    cycle, cycles = _report_cycle(cycle_id)
    report = cycle_report(cycle, cycles)
    return render("reports/summary.html", report=report, definitions=DEFINITIONS)


@bp.route("/cycles/<int:cycle_id>/<key>.csv")
@director
def table_csv(cycle_id: int, key: str):
    cycle, cycles = _report_cycle(cycle_id)
    report = cycle_report(cycle, cycles)
    if key not in report.tables:
        raise NotFound()
    table = report.tables[key]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in table.csv_rows():
        # Numbers stay numbers; text (objective titles, cycle names) cannot become a spreadsheet formula.
        writer.writerow([cell if isinstance(cell, int | float) else spreadsheet_safe(cell) for cell in row])
    filename = f"impact-cycle-{cycle.id}-{key}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/retrospectives/<int:pairing_id>", methods=["GET", "POST"])
@signed_in
def retrospective(pairing_id: int):
    form = retrospective_for(current_user, pairing_id)
    status = 200
    outcome = None
    if request.method == "POST":
        levels = {key.removeprefix("skill-"): value for key, value in request.form.items() if key.startswith("skill-")}
        with errors_onto() as outcome:
            answer_retrospective(
                form,
                current_user,
                goals_reached=request.form.getlist("goal"),
                levels=levels,
                recommend=request.form.get("recommend", ""),
                went_well=request.form.get("went_well", ""),
                to_change=request.form.get("to_change", ""),
            )
        if outcome.ok:
            flash("Thank you. Your answers help the program learn; nothing you wrote carries your name.", "success")
            return redirect(url_for("main.home"), code=303)
        status = 422
        form = retrospective_for(current_user, pairing_id)
    submitted = request.form if request.method == "POST" else None
    return render(
        "reports/retrospective.html",
        status=status,
        retro=form,
        errors=outcome.extra if outcome else {},
        submitted=submitted,
        levels=LEVELS,
        level_words=LEVEL_WORDS,
    )


@bp.route("/retrospectives/<int:pairing_id>/skip", methods=["POST"])
@signed_in
def skip(pairing_id: int):
    form = retrospective_for(current_user, pairing_id)
    skip_retrospective(form, current_user)
    flash("That is fine. We will not ask again about this pairing.", "success")
    return redirect(url_for("main.home"), code=303)


@bp.route("/program")
@signed_in
def program():
    cycle = current_cycle()
    return render(
        "reports/program.html",
        message=sponsor_message(),
        cycle=cycle,
        upcoming=next_cycle(cycle),
        numbers=program_numbers(),
        definitions=DEFINITIONS,
    )


@bp.route("/program/message", methods=["GET", "POST"])
@director
def sponsor():
    latest = sponsor_message()
    form = SponsorForm(obj=latest)
    status = 200
    if form.validate_on_submit():
        with errors_onto(form) as outcome:
            write_sponsor_message(
                current_user,
                sponsor_name=form.sponsor_name.data or "",
                sponsor_title=form.sponsor_title.data or "",
                body=form.body.data or "",
            )
        if outcome.ok:
            flash("The sponsor's message is published on the program page.", "success")
            return redirect(url_for("reports.program"), code=303)
        status = 422
    return render("reports/sponsor.html", status=status, form=form)


@bp.app_template_test("figure")
def is_figure(value) -> bool:
    return isinstance(value, Figure)


@bp.app_template_global()
def program_state():
    """The program's state for the director's home page (see services.program_state)."""
    from portal.reports.services import program_state as state

    return state()


@bp.app_template_global()
def skill_baselines() -> dict[str, int]:
    """The signed-in person's baseline levels by skill key, for the questionnaire's skills step."""
    from portal.reports.services import baseline_levels

    return baseline_levels(current_user)
