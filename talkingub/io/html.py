"""Static HTML pages: one file, an inline stylesheet, media by relative link (no server, no CDN,
no script). Text is escaped unless wrapped in `Raw` (HTML this module made)."""

from __future__ import annotations

import html
import os
import urllib.parse
from collections.abc import Iterable, Sequence
from pathlib import Path

from talkingub.io.atomic import atomic_write_text

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.subtitle { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; vertical-align: top; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: .5em .8em; }
.gallery { display: flex; flex-wrap: wrap; gap: .6em; }
.gallery figure { margin: 0; } figcaption { font-size: .8em; color: #555; max-width: 256px; }
img, video { max-width: 100%; height: auto; }
details > summary { cursor: pointer; }
code { background: #f4f4f4; padding: 0 .2em; }
"""


class Raw(str):
    """HTML made by this module (or by a caller that escaped it): inserted as is."""


Cell = str | int | float | None


def esc(value: Cell) -> str:
    """`value` as HTML text (`Raw` as is; None as an empty cell)."""
    if isinstance(value, Raw):
        return value
    return "" if value is None else html.escape(str(value))


def page(title: str, parts: Iterable[str], subtitle: str = "", style: str = "") -> Raw:
    """A whole page; `style`: CSS rules of this page, after the shared `STYLE`."""
    sub = f'<p class="subtitle">{esc(subtitle)}</p>' if subtitle else ""
    body = "\n".join(parts)
    return Raw(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}{style}</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n{sub}\n{body}\n</body>\n</html>\n"
    )


def section(heading: str, *parts: str, anchor: str | None = None) -> Raw:
    ident = f' id="{esc(anchor)}"' if anchor else ""
    return Raw(f"<section{ident}>\n<h2>{esc(heading)}</h2>\n" + "\n".join(parts) + "\n</section>")


def paragraph(text: Cell, cls: str | None = None) -> Raw:
    klass = f' class="{esc(cls)}"' if cls else ""
    return Raw(f"<p{klass}>{esc(text)}</p>")


def table(header: Sequence[Cell], rows: Iterable[Sequence[Cell]]) -> Raw:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return Raw(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>")


def image(src: str, alt: str, width: int | None = None) -> Raw:
    size = f' width="{width}"' if width else ""
    return Raw(f'<img src="{esc(src)}" alt="{esc(alt)}"{size} loading="eager">')


def video(src: str, width: int | None = None) -> Raw:
    """A looping, muted video that plays inline (browsers autoplay only muted video)."""
    size = f' width="{width}"' if width else ""
    return Raw(
        f'<video src="{esc(src)}"{size} controls muted loop autoplay playsinline '
        'preload="auto"></video>'
    )


def figure(media: str, caption: Cell) -> Raw:
    return Raw(f"<figure>{esc(media)}<figcaption>{esc(caption)}</figcaption></figure>")


def gallery(figures: Iterable[str]) -> Raw:
    return Raw('<div class="gallery">\n' + "\n".join(figures) + "\n</div>")


def details(summary: Cell, *parts: str, opened: bool = False) -> Raw:
    tag = "<details open>" if opened else "<details>"
    return Raw(f"{tag}<summary>{esc(summary)}</summary>\n" + "\n".join(parts) + "</details>")


def link(href: str, text: Cell) -> Raw:
    return Raw(f'<a href="{esc(href)}">{esc(text)}</a>')


def relative_src(target: Path, page_dir: Path) -> str:
    """The URL of `target` relative to a page in `page_dir` (percent-encoded, `/`-separated),
    so the page works wherever the folder is moved or served from."""
    rel = Path(os.path.relpath(target, page_dir)).as_posix()
    return urllib.parse.quote(rel)


def write_page(path: Path, content: str) -> Path:
    atomic_write_text(path, content)
    return path
