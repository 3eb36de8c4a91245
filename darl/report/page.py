"""The one page template of darl's HTML reports: the run report (`darl report`), the levels calibration report
(`darl levels`) and the comparison report (`darl compare`) share this shell, stylesheet, table, figure and notice
rendering, so the three look alike and a fix to one lands in all.

Pages are self-contained on purpose: inline CSS, figures as base64 PNG, no scripts and no external assets, so a
report opens from disk in any browser, in an e-mail attachment or on a machine without network.
"""

from __future__ import annotations

import base64
import html
from typing import Any, Iterable, Sequence

CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1180px;
       padding: 24px; color: #1d1d1f; background: #ffffff; line-height: 1.45; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 20px; border-bottom: 2px solid #e5e5ea;
       padding-bottom: 4px; margin-top: 36px; } h3 { font-size: 15px; margin-bottom: 6px; }
.meta { color: #6e6e73; font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #d2d2d7; padding: 4px 9px; text-align: right; }
th { background: #f5f5f7; } td.l, th.l { text-align: left; }
.missing { background: #fff8e6; border-left: 4px solid #f5a623; padding: 8px 12px; margin: 8px 0; font-size: 13px; }
.problem { background: #fdecea; border-left: 4px solid #d93025; padding: 8px 12px; margin: 8px 0; font-size: 13px; }
.headline { display: flex; gap: 14px; flex-wrap: wrap; margin: 14px 0; }
.card { border: 1px solid #d2d2d7; border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.card .v { font-size: 24px; font-weight: 600; } .card .k { font-size: 12px; color: #6e6e73; }
.up { color: #1a7f37; } .down { color: #c62828; }
img { max-width: 100%; } code { background: #f5f5f7; padding: 1px 4px; border-radius: 3px; }
"""


def esc(value: Any) -> str:
    """`value` as text safe inside HTML."""
    return html.escape(str(value))


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1, escape: bool = False) -> str:
    """An HTML table; the first `left` columns are left-aligned (labels), the rest right-aligned (numbers).

    Header cells are always escaped. Body cells are HTML as given (callers that format cells with markup, such as
    `<code>` or coloured spans, escape their own text) unless `escape` is set, for tables of plain text."""
    def cls(i: int) -> str:
        return ' class="l"' if i < left else ""

    head = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{esc(c) if escape else c}</td>" for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def figure(png: bytes | str | None, alt: str) -> str:
    """An embedded PNG (raw bytes or already base64-encoded text); nothing when there is no figure."""
    if png is None:
        return ""
    data = base64.b64encode(png).decode() if isinstance(png, bytes) else png
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def missing(text: str) -> str:
    """A yellow notice that an input is absent and what is therefore not shown (`text` is HTML)."""
    return f'<div class="missing"><b>Missing:</b> {text}</div>'


def problem(text: str) -> str:
    """A red notice of something wrong that the reader must see (`text` is HTML)."""
    return f'<div class="problem">{text}</div>'


def document(title: str, body: Iterable[str]) -> str:
    """The whole document: `title` (plain text) in the head, `body` parts (HTML) joined by newlines."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")
