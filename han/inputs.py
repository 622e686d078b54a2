"""What `han.predict` reads and writes: raw documents from a file, a folder or stdin, each checked
to be text, and an output path that never replaces a file this command did not write.

Input that is not text is an error naming the file; input without a document is an error that
writes nothing.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pandas as pd

from han.data.sources import DataError

TABLE_SUFFIXES = {".csv", ".tsv", ".jsonl", ".json", ".parquet"}


# A text with more than this share of control or undecodable characters is not text.
NOT_TEXT = 0.05


def text_of(raw: bytes, where: str) -> str:
    """The decoded text of a file (or stdin); `DataError` naming it when it is not text
    (binary, or mostly bytes no text encoding gives)."""
    from han.data.sources import decode_text

    text, _ = decode_text(raw)
    if text:
        odd = sum(1 for ch in text if (ch == "\ufffd" or unicodedata.category(ch) == "Cc")
                  and ch not in "\t\n\r\f")
        if odd > NOT_TEXT * len(text):
            raise DataError(f"{where} is not text: {odd} of its {len(text)} characters are control "
                            "or undecodable bytes (a binary file?); give text files (UTF-8, "
                            "UTF-16 with a byte-order mark, cp1252)")
    return text


def read_inputs(source: str, text_column: str = "text") -> pd.DataFrame:
    """Documents from a text file (one document), a table, a folder of .txt files, or stdin
    (one document per line). `DataError` when there is none, or a file is not text."""
    frame = _read_inputs(source, text_column)
    if frame.empty:
        raise DataError(f"input={source} holds no document (it is empty): nothing to predict, "
                        "nothing written")
    return frame


def _read_inputs(source: str, text_column: str) -> pd.DataFrame:
    if source == "-":
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        lines = [line for line in text_of(raw, "stdin").splitlines() if line.strip()]
        return pd.DataFrame({"id": [f"stdin-{i}" for i in range(len(lines))], "text": lines})
    path = Path(source)
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise FileNotFoundError(f"no .txt files in {path}: put one document per .txt file there")
        return pd.DataFrame(
            {"id": [f.name for f in files], "text": [text_of(f.read_bytes(), str(f)) for f in files]}
        )
    if not path.exists():
        raise FileNotFoundError(f"input={source}: no such file or folder")
    if path.suffix.lower() in TABLE_SUFFIXES:
        from han.data.tables import read_table

        table = read_table(path)
        if text_column not in table:
            raise DataError(f"{path} has no column {text_column!r} (columns: {list(table)}); "
                            f"set text_column=<name>")
        ids = table["id"] if "id" in table else [f"{path.stem}-{i}" for i in range(len(table))]
        frame = pd.DataFrame({"id": ids, "text": table[text_column].fillna("").astype(str)})
        if "label" in table:  # shown as the true label in the output, never used to predict
            frame["label"] = table["label"].fillna("").astype(str)
        return frame
    return pd.DataFrame({"id": [path.name], "text": [text_of(path.read_bytes(), str(path))]})


def writable_output(path: Path, overwrite: bool) -> Path:
    """`path`, unless a file is already there and `overwrite` was not asked for."""
    if path.is_dir():
        raise IsADirectoryError(f"output={path} is a folder; give a file name, e.g. "
                                f"output={path / 'predict.json'}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"output={path} exists and was not written by this command; give "
                              "another output= or overwrite=true to replace it")
    return path
