"""Reading an import file into rows that know the line they start on, so every problem names the real line
and column: bytes that are not UTF-8, a quote that is never closed and a line too long to parse are
problems of a cell, never a traceback or a later line's fault."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from typing import TextIO

from kpi_core.errors import ImportFileError, RowProblem

#: Longer lines are refused before the csv module reads them (its own limit is 131072 characters a cell,
#: and its error names neither line nor column). Real rows are a few hundred characters.
MAX_LINE_CHARS = 100_000

#: A row: its first line and its cells by column, or the problem that makes it unreadable.
Row = tuple[int, dict[str, str] | RowProblem]


class _LineTooLong(Exception):
    def __init__(self, line: int, text: str) -> None:
        self.line = line
        self.text = text


def _counted(handle: TextIO) -> Iterator[str]:
    for number, text in enumerate(handle, start=1):
        if len(text) > MAX_LINE_CHARS:
            raise _LineTooLong(number, text)
        yield text


def _cell_index_at(text: str, limit: int) -> int:
    """The index of the first cell of ``text`` longer than ``limit`` characters (quotes respected)."""
    index, length, quoted = 0, 0, False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            index, length = index + 1, 0
            continue
        length += 1
        if length > limit:
            break
    return index


def _column(header: list[str], index: int | None) -> str | None:
    return header[index] if index is not None and 0 <= index < len(header) else None


#: what ``errors="surrogateescape"`` makes of a byte that is not UTF-8
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def undecodable(text: str) -> bool:
    """Whether ``text`` holds bytes that were not UTF-8 (read with ``errors="surrogateescape"``)."""
    return _ESCAPED_BYTE.search(text) is not None


def read_rows(handle: TextIO, columns: Iterable[str], file: str, *, optional: Iterable[str] = ()) -> Iterator[Row]:
    """The rows of ``handle`` after a header naming exactly ``columns`` (in any order; those in ``optional``
    may be left out, and then read as empty cells); blank lines are skipped. Raises ImportFileError for a
    missing or wrong header."""
    columns = tuple(columns)
    optional = tuple(optional)
    reader = csv.reader(_counted(handle))
    try:
        header = next(reader, None)
    except _LineTooLong:
        raise ImportFileError(file=file, problems=[RowProblem(1, None, "the header line is too long")]) from None
    if header is None:
        raise ImportFileError(file=file, problems=[RowProblem(1, None, "the file is empty; a header row is required")])
    if undecodable("".join(header)):
        raise ImportFileError(file=file, problems=[RowProblem(1, None, "not UTF-8 text")])
    header = [name.strip() for name in header]
    _check_header(header, columns, file, optional)
    absent = {column: "" for column in columns if column not in header}
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader, None)
        except _LineTooLong as error:
            message = f"too long: a cell of more than {MAX_LINE_CHARS} characters"
            yield (
                error.line,
                RowProblem(error.line, _column(header, _cell_index_at(error.text, MAX_LINE_CHARS)), message),
            )
            return  # the reader cannot go on past a line it refused
        except csv.Error as error:
            yield start, RowProblem(start, None, f"unreadable CSV: {error}")
            return
        if cells is None:
            return
        if not any(cell.strip() for cell in cells):
            continue
        end = reader.line_num
        if len(cells) != len(header):
            message = f"wrong number of cells (the header has {len(header)})"
            runaway = next((index for index, cell in enumerate(cells) if "\n" in cell), None)
            if end > start and runaway is not None:
                message = f"a quoted cell opened on this line is not closed before line {end} ({message})"
            yield start, RowProblem(start, _column(header, runaway) if end > start else None, message)
            continue
        yield start, {**absent, **{name: cell.strip() for name, cell in zip(header, cells, strict=True)}}


def _check_header(header: list[str], columns: tuple[str, ...], file: str, optional: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in header and column not in optional]
    unknown = [column for column in header if column not in columns]
    twice = [column for column in columns if header.count(column) > 1]
    if missing or unknown or twice:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        if twice:
            parts.append(f"column(s) {', '.join(twice)} given twice")
        raise ImportFileError(
            file=file,
            problems=[RowProblem(1, None, f"{'; '.join(parts)} (expected {_expected(columns, optional)})")],
        )


def _expected(columns: tuple[str, ...], optional: tuple[str, ...]) -> str:
    """``team,measure,date,value[,person]``: the header a file may have."""
    required = ",".join(column for column in columns if column not in optional)
    return required + "".join(f"[,{column}]" for column in columns if column in optional)
