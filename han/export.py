"""`python -m han.export <run dir>` (`make export RUN=…`, `han-export`): a run for serving.

Writes `<run dir>/export/` (or `--output`):
  saved_model/     TF SavedModel; signature `serve`: int32 ids (B, L, T), or (B, N) for flat
                   models, → class probabilities (B, C) in float32
  vocab.json       the run's vocabulary (id = position; 0 padding, 1 unknown)
  tokenizer.json   everything that turns raw text into those ids: NLTK settings, the view
                   (L, T or N, wrapping, which N words), the class names in output order
  SERVING.md       the serving guide (docs/SERVING.md): a client that needs TensorFlow, NLTK
                   (with punkt_tab) and numpy, not this package, and reproduces `han.predict`'s
                   probabilities
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from han.cli import UsageError, entry
from han.schema import typed

FORMAT_VERSION = 1
# The serving guide goes into every export (an installed copy has no docs/ folder): a wheel
# ships it as han/SERVING.md (setup.py), a checkout has it in docs/.
_PACKAGE = Path(__file__).resolve().parent
SERVING_GUIDES = (_PACKAGE / "SERVING.md", _PACKAGE.parent / "docs" / "SERVING.md")
# How han.data.tokenize splits text; written out so that a client needs no import of han.
PARAGRAPH_SPLIT = r"\n\s*\n"
PUNCTUATION_TOKEN = r"^[^\w]+$"


def tokenizer_json(cfg, classes: list[str], flat: bool, summary: dict | None = None) -> dict:
    """The text-to-ids recipe of a run: its tokenizer settings and its model's view."""
    from han.data.prepare import tokenizer_settings

    settings = tokenizer_settings(cfg.dataset, cfg.paths)
    dataset = typed("dataset", cfg.dataset)  # a saved run's config: the schema's defaults
    view = (summary or {}).get("view") or {}

    def setting(key: str):
        # null L / T are derived from the training split at run time: the run's summary has them
        value = dataset[key]
        value = view.get(key) if value is None else value
        if value is None:
            raise UsageError(f"dataset.{key} is null in the run's config and its "
                             "data_summary.json does not record it; cannot export the view")
        return int(value)

    out = {
        "format_version": FORMAT_VERSION,
        "classes": list(classes),
        "language": settings.language,
        "lowercase": settings.lowercase,
        "max_chars": settings.max_chars,
        "drop_punctuation": settings.drop_punctuation,
        "paragraph_split": PARAGRAPH_SPLIT,
        "punctuation_token": PUNCTUATION_TOKEN,
        "sentence_model": "nltk punkt_tab (nltk.tokenize.PunktTokenizer(language))",
        "word_tokenizer": "nltk.tokenize.destructive.NLTKWordTokenizer",
        "pad_id": 0,
        "unknown_id": 1,
        "view": "flat" if flat else "hierarchical",
    }
    if flat:
        out |= {"max_tokens": setting("max_tokens"),
                "keep_words": str(dataset.keep_words)}
    else:
        out |= {"max_sentences": setting("max_sentences"), "max_words": setting("max_words"),
                "wrap_long_sentences": bool(dataset.wrap_long_sentences)}
    return out


def export_run(run_dir: Path, output: Path | None = None) -> Path:
    """Write the SavedModel, vocabulary, tokenizer settings and serving guide of a finished run."""
    from han.io import atomic_write_text
    from han.saved_run import SavedRun

    run = SavedRun(Path(run_dir))
    output = (Path(output) if output else run.dir / "export").resolve()  # the message names it
    summary_path = run.dir / "data_summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else None
    settings = tokenizer_json(run.cfg, run.classes, run.flat, summary)
    saved_model = output / "saved_model"
    if saved_model.exists():
        shutil.rmtree(saved_model)
    output.mkdir(parents=True, exist_ok=True)
    run.model.export(saved_model, verbose=False)
    shutil.copyfile(run.dir / "vocab.json", output / "vocab.json")
    atomic_write_text(output / "tokenizer.json", json.dumps(settings, indent=1))
    guide = next((g for g in SERVING_GUIDES if g.is_file()), None)
    if guide is not None:
        atomic_write_text(output / "SERVING.md", guide.read_text())
    return output


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a finished run (the folder han-train printed)")
    parser.add_argument("--output", type=Path, default=None,
                        help="folder to write (default: <run dir>/export)")
    args = parser.parse_args(argv)
    output = export_run(args.run_dir, args.output)
    guide = output / "SERVING.md"
    client = f" (a client: {guide})" if guide.is_file() else ""
    print(f"exported to {output}: saved_model/, vocab.json, tokenizer.json{client}")
    return 0


script = entry(main)

if __name__ == "__main__":
    script()
