"""The period's figures as CSV (UTF-8 with BOM, for spreadsheet programs) and XLSX, with Chinese headers.

Labels are names people typed (departments, matters, clerks): a name is exported as text, never as a
formula (a spreadsheet would run `=HYPERLINK(...)`; OWASP's CSV injection), and the control characters
an XLSX file cannot hold are left out of it (openpyxl refused them, and the export answered 500).
"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from app.supervision.stats import FIGURES

BY_LABELS = {"department": "部门", "matter": "事项", "clerk": "受理人", "month": "月份"}
RATES = {"on_time_rate", "immediate_rate", "satisfaction_rate", "bad_followed_up_rate"}


def _table(result: dict) -> list[list]:
    """Header and rows (the total last), in the order of FIGURES."""
    header = [BY_LABELS[result["by"]] if name == "label" else title for name, title in FIGURES]
    rows = [[row[name] for name, _ in FIGURES] for row in [*result["rows"], result["total"]]]
    return [header, *rows]


def filename(result: dict, ext: str) -> str:
    """A download name: 监察统计_<by>_<from>_<to>.<ext>."""
    return f"supervision_{result['by']}_{result['from']}_{result['to']}.{ext}"


# What makes a spreadsheet read a cell as a formula (OWASP: CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value  # shown as text by spreadsheet programs
    return value


def to_csv(result: dict) -> bytes:
    """The figures as CSV; rates as fractions, empty where nothing was counted."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in _table(result):
        writer.writerow([_csv_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(result: dict) -> bytes:
    """The figures as one XLSX sheet; rates formatted as percentages."""
    book = Workbook()
    sheet = book.active
    sheet.title = "监察统计"
    sheet.append([f"统计期间 {result['from']} 至 {result['to']}"])
    table = _table(result)
    for row in table:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, even when it begins with "=" (openpyxl would store a formula)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    names = [name for name, _ in FIGURES]
    for column, name in enumerate(names, start=1):
        if name in RATES:
            for (cell,) in sheet.iter_rows(min_row=3, min_col=column, max_col=column):
                cell.number_format = "0.00%"
        sheet.column_dimensions[sheet.cell(row=2, column=column).column_letter].width = 14
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
