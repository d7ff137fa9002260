"""A pre-filled vigilance report of one reaction (CSV and PDF): what a form asks, never who the client is.

The client appears only as an age band at the onset date and a sex; never a name, e-mail, phone or birth date.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime

from inventory import clock, db
from inventory.domain.errors import NotFound
from inventory.domain.spreadsheet import csv_file
from inventory.domain.vigilance import age_band
from inventory.services.reaction_follow_ups import current_outcome
from inventory.store import reaction_follow_ups as follow_up_store
from inventory.store import vigilance as store

COLUMNS = (
    "reaction_id",
    "clinic",
    "product",
    "brand",
    "gtin",
    "lot",
    "expiry",
    "use_date",
    "onset",
    "kind",
    "severity",
    "outcome",
    "age_band",
    "sex",
)


@dataclass(frozen=True)
class ReportLot:
    """A lot of the reaction's session."""

    product: str
    brand: str
    gtin: str | None
    lot_number: str
    expiry_date: date
    use_date: date  # the location's local day of the lot's first use in the session


@dataclass(frozen=True)
class Report:
    """Everything the report shows."""

    reaction_id: int
    clinic: str
    onset: datetime  # at the clinic's local time
    kind: str
    severity: str
    outcome: str | None
    age_band: str
    sex: str | None
    lots: tuple[ReportLot, ...]


async def reaction_report(*, reaction_id: int) -> Report:
    """The report's content; raises NotFound."""
    async with db.connection() as conn:
        record = await store.get_reaction(conn, reaction_id)
        subject = await store.report_subject(conn, reaction_id)
        lines = await store.report_lines(conn, reaction_id)
        follow_ups = await follow_up_store.of_reactions(conn, [reaction_id])
    if record is None or subject is None:
        raise NotFound.of("reaction", reaction_id)
    onset = clock.local_now(subject.timezone, record.onset_at)
    return Report(
        reaction_id=record.id,
        clinic=subject.location_name,
        onset=onset,
        kind=record.kind,
        severity=record.severity,
        outcome=current_outcome(record.outcome, follow_ups.get(reaction_id, ())),  # as the latest follow-up left it
        # The live birth date when there is one (a corrected one counts); after erasure, the band kept at recording.
        age_band=age_band(subject.date_of_birth, onset.date()) if subject.date_of_birth else subject.age_band,
        sex=subject.sex,
        lots=tuple(
            ReportLot(
                product=line.product,
                brand=line.brand,
                gtin=line.gtin,
                lot_number=line.lot_number,
                expiry_date=line.expiry_date,
                use_date=clock.today_in(subject.timezone, line.used_at),
            )
            for line in lines
        ),
    )


def _rows(report: Report) -> list[list[str]]:
    common = [
        report.onset.strftime("%Y-%m-%d %H:%M"),
        report.kind,
        report.severity,
        report.outcome or "",
        report.age_band,
        report.sex or "unknown",
    ]
    lots = report.lots or (None,)
    return [
        [
            str(report.reaction_id),
            report.clinic,
            *(
                [
                    lot.product,
                    lot.brand,
                    lot.gtin or "",
                    lot.lot_number,
                    lot.expiry_date.isoformat(),
                    lot.use_date.isoformat(),
                ]
                if lot is not None
                else [""] * 6
            ),
            *common,
        ]
        for lot in lots
    ]


def report_csv(report: Report) -> bytes:
    """One row per lot of the session (one row without product when none was used), as a CSV file with its BOM."""
    return csv_file(COLUMNS, _rows(report))


def report_pdf(report: Report) -> bytes:
    """An A4 page with the report's fields."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from labels.fonts import pdf_font

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    _, height = A4
    y = height - 60
    canvas.setFont(pdf_font("bold"), 15)
    canvas.drawString(50, y, f"Adverse reaction report #{report.reaction_id}")
    y -= 30

    def line(label: str, value: str) -> None:
        nonlocal y
        canvas.setFont(pdf_font("bold"), 10)
        canvas.drawString(50, y, label)
        canvas.setFont(pdf_font("regular"), 10)
        canvas.drawString(170, y, value[:90])
        y -= 16
        if y < 60:
            canvas.showPage()
            y = height - 60

    line("Clinic", report.clinic)
    line("Onset", report.onset.strftime("%Y-%m-%d %H:%M %Z"))
    line("Reaction", report.kind.replace("_", " "))
    line("Severity", report.severity)
    line("Outcome", (report.outcome or "not given").replace("_", " "))
    line("Client age band", report.age_band)
    line("Client sex", report.sex or "unknown")
    y -= 10
    if not report.lots:
        line("Products", "no product use recorded in the session")
    for number, lot in enumerate(report.lots, start=1):
        canvas.setFont(pdf_font("bold"), 11)
        canvas.drawString(50, y, f"Product {number}")
        y -= 18
        line("Product", lot.product)
        line("Brand", lot.brand)
        line("GTIN", lot.gtin or "none")
        line("Lot", lot.lot_number)
        line("Expiry", lot.expiry_date.isoformat())
        line("Date of use", lot.use_date.isoformat())
        y -= 8
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
