"""Landing files as real exporters write them, cut into records.

* A UTF-8 byte-order mark (Excel's "CSV UTF-8", Notepad) is dropped; a UTF-16 file
  with its BOM (Excel's "Unicode text") is decoded as such.
* Lines end in ``\\n``, ``\\r\\n`` or ``\\r``. Nothing else ends a line: form feeds,
  ``\\x1c``–``\\x1e``, U+0085, U+2028 / U+2029 are text inside a field or a JSON string.
* A CSV field may be quoted and span several lines; a record's ``line_number`` is the
  physical line where it starts. A stray quote that would swallow the following
  lines costs only the line it is on: the reader quarantines that line and starts
  again on the next one, so good rows after it are not lost.
* Bytes that are not UTF-8 never become ``�``: the record that holds them is
  quarantined, in every format, with the byte and its position; its raw text keeps
  them as ``\\xNN`` escapes so it can be repaired.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_ASCII_SPACE = " \t\n\r\x0b\x0c"


@dataclass
class RawRecord:
    """One record as read: where it starts, its text, and why it cannot load if that is
    already known from reading alone (``problem``)."""

    line_number: int
    text: str
    parsed: dict | None = None  # CSV rows arrive parsed, as {column: value or None}
    problem: str | None = None


def read_records(path: Path) -> Iterator[RawRecord]:
    """The records of a landing file, in file order (blank lines are not records)."""
    if path.suffix.lower() == ".csv":
        yield from _csv_records(_file_bytes(path))
    else:
        yield from _json_line_records(_file_bytes(path))


def _file_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data.startswith(_UTF8_BOM):
        return data[len(_UTF8_BOM) :]
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return data  # not really UTF-16: every line is quarantined as not UTF-8
    return data


def _physical_lines(data: bytes) -> Iterator[bytes]:
    """Lines without their terminator; ``\\n``, ``\\r\\n`` and a lone ``\\r`` end a line."""
    for chunk in data.split(b"\n"):
        if b"\r" in chunk[:-1]:
            *lines, last = chunk.split(b"\r")
            yield from lines
            if last:
                yield last
        else:
            yield chunk.removesuffix(b"\r")


def _not_utf8(error: UnicodeDecodeError, what: str) -> str:
    byte = error.object[error.start]
    return (
        f"not valid UTF-8: byte 0x{byte:02X} at {what} {error.start + 1} "
        "(a latin-1 / Windows-1252 export?)"
    )


def _json_line_records(data: bytes) -> Iterator[RawRecord]:
    if b"\r" not in data and _UTF8_BOM not in data:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # The common file: UTF-8 throughout, lines ending in \n only. Decoded once, split
            # on \n alone (str.splitlines would also split on U+2028, \x1c, form feeds).
            lines = text.split("\n")
            if lines and not lines[-1]:
                lines.pop()
            for line_number, line in enumerate(lines, start=1):
                if line.strip(_ASCII_SPACE):  # blank as bytes.strip() sees it, below
                    yield RawRecord(line_number, line)
            return
    lines = list(_physical_lines(data))
    if lines and not lines[-1]:
        lines.pop()  # the file's final newline
    for line_number, raw in enumerate(lines, start=1):
        raw = raw.removeprefix(_UTF8_BOM)  # concatenated files keep each one's BOM
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", "backslashreplace")
            yield RawRecord(line_number, text, problem=_not_utf8(exc, "column"))
            continue
        yield RawRecord(line_number, text)


class _Cursor:
    """An iterator over physical lines that knows where it is, so a CSV reader can be
    restarted on any line."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.position = 0

    def __iter__(self) -> _Cursor:
        return self

    def __next__(self) -> str:
        if self.position >= len(self.lines):
            raise StopIteration
        line = self.lines[self.position]
        self.position += 1
        return line


def _escaped(text: str) -> str:
    """Text decoded with ``surrogateescape``, undecodable bytes shown as ``\\xNN``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_UNDECODABLE = re.compile("[\udc80-\udcff]")


def _first_undecodable(text: str) -> int | None:
    match = _UNDECODABLE.search(text)  # one C scan, not a Python loop over characters
    return match.start() if match else None


def _csv_records(data: bytes) -> Iterator[RawRecord]:
    text = data.decode("utf-8", "surrogateescape")
    # newline="" splits on \n, \r\n and \r only, and keeps the terminators for csv.
    lines = list(io.StringIO(text, newline=""))
    cursor = _Cursor(lines)
    # strict: a quote closed and followed by text, or a file ending inside quotes, is an
    # error (a stray quote), not a field glued to the next lines.
    reader = csv.reader(cursor, strict=True)
    header: list[str] = []
    while not any(name.strip() for name in header):  # leading blank lines
        try:
            header = next(reader)
        except (StopIteration, csv.Error):
            return
    header = [name.removeprefix("\ufeff").strip() for name in header]
    header_problem = _header_problem(header)
    while True:
        start = cursor.position
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RawRecord(
                start + 1,
                _escaped(lines[start].rstrip("\r\n")),
                problem=f"malformed CSV row ({exc})",
            )
            cursor.position = start + 1
            reader = csv.reader(cursor, strict=True)
            continue
        consumed = cursor.position - start
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # blank lines are not records
        record_text = "".join(lines[start : cursor.position]).removesuffix("\n").removesuffix("\r")
        if consumed > 1 and (
            len(values) != len(header)
            or _swallows_a_row(lines[start + 1 : cursor.position - 1], len(header))
        ):
            # A quote opened and never closed on this line swallowed the next ones:
            # only this line is bad; read on from the next.
            yield RawRecord(
                start + 1,
                _escaped(lines[start].rstrip("\r\n")),
                problem="malformed CSV row (a quote is opened and not closed on its line)",
            )
            cursor.position = start + 1
            reader = csv.reader(cursor, strict=True)
            continue
        raw_text = _escaped(record_text)
        if header_problem:
            yield RawRecord(start + 1, raw_text, problem=header_problem)
            continue
        if len(values) != len(header):
            yield RawRecord(
                start + 1,
                raw_text,
                problem=f"CSV row has {len(values)} columns, header has {len(header)}",
            )
            continue
        bad = _first_undecodable(record_text)
        if bad is not None:
            byte = ord(record_text[bad]) - 0xDC00
            yield RawRecord(
                start + 1,
                raw_text,
                problem=(
                    f"not valid UTF-8: byte 0x{byte:02X} at character {bad + 1} of the row "
                    "(a latin-1 / Windows-1252 export?)"
                ),
            )
            continue
        row = {
            name: (value if value != "" else None)
            for name, value in zip(header, values, strict=True)
        }
        yield RawRecord(start + 1, record_text, parsed=row)


def _swallows_a_row(inner_lines: list[str], columns: int) -> bool:
    """Whether lines wholly inside a multi-line field look like complete rows of their
    own (all the columns, no quote): the field is then a stray quote that ran on."""
    for line in inner_lines:
        if '"' not in line and len(next(csv.reader([line]), [])) == columns:
            return True
    return False


def _header_problem(header: list[str]) -> str | None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            return f"CSV header repeats column '{name}'"
        seen.add(name)
    if _first_undecodable("".join(header)) is not None:
        return "CSV header is not valid UTF-8"
    return None


__all__ = ["RawRecord", "read_records"]
