"""Writing .xlsx files that are safe to open: the one place an export turns values into cells.

A text that begins like a formula must stay text. A member named ``=HYPERLINK("http://…"&H2&I2, "点击")`` would
otherwise become a live link in the committee's spreadsheet that sends the row's phone and ID number away when
clicked (CSV/formula injection, CWE-1236). openpyxl writes a string starting with ``=`` as a formula; Excel and
LibreOffice also re-read ``+``, ``-`` and ``@`` as a formula's start when such a cell is edited or the sheet is
saved as CSV. So every such text is written as a string cell with Excel's quote prefix (the cell shows exactly
what was typed, as text, and stays text when edited); the text itself is not changed, so an export imports back
unchanged. Every export (register today; notices, statements, results later) writes its rows through ``row``.
"""

from openpyxl.cell import WriteOnlyCell

# What Excel, LibreOffice and Google Sheets read as the start of a formula (tab and CR: OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(sheet, value):
    """A write-only cell for ``value``; formula-like text is kept as quoted text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        safe = WriteOnlyCell(sheet, value=value)
        safe.data_type = "s"
        safe.quotePrefix = True
        return safe
    return value


def row(sheet, values) -> list:
    """``values`` ready for ``sheet.append``: numbers and dates as they are, formula-like text neutralised."""
    return [cell(sheet, value) for value in values]
