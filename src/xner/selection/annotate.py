"""Re-annotation by people: export uncertain sentences for review, import the corrections.

Export writes, into one folder:
- ``review.conll``: a ``# labels = ...`` header, then per sentence ``# id = domain/file/line``
  and ``# score = ...`` comments and ``token<TAB>label<TAB>mark`` lines, where mark is ``?``
  for a token whose entropy is above the threshold and ``_`` otherwise. People edit the label
  column only.
- ``tasks.json`` + ``label_config.xml`` for Label Studio (see ``labelstudio``).
- ``manifest.json``: what was exported and how.

Import reads an edited ``review.conll`` or a Label Studio JSON export, checks it against the
label space and the original data (same tokens, valid IOB2 spans, known and unique sentence
ids) and writes the corrected labels back into the data file(s) atomically. Any problem is one
line naming the file and line (or Label Studio task).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xner.atomic import write_json, write_text
from xner.data.columns import TEXT, ColumnSpec, Row, read_columns, read_utf8_text
from xner.data.corpus import Sentence
from xner.data.tags import IOB2, repair_iob2, violations
from xner.errors import DataError
from xner.models.base import Tagger
from xner.selection import labelstudio
from xner.selection.review import Reviewed, ReviewItem
from xner.selection.uncertainty import DEFAULT_THRESHOLD, entropies, rank_by_uncertainty, sentence_score

__all__ = ["ReviewItem", "Reviewed", "export_for_review", "import_reviewed", "read_review_file", "review_items"]

REVIEW_FILE = "review.conll"
TASKS_FILE = "tasks.json"
CONFIG_FILE = "label_config.xml"
MANIFEST_FILE = "manifest.json"
CERTAIN, UNCERTAIN = "_", "?"
# Review lines are tab-separated (tokens may hold spaces); '#' lines without a tab are comments
# (so the token '#', which CrossNER has, stays a token); the fields are checked here.
_REVIEW_COLUMNS = ColumnSpec({0: TEXT}, min_width=1, same_width=False, tabs_only=True, comments=True,
                             keep_rows=True)


def sentence_id(sentence: Sentence) -> str:
    """``domain/file/line``: where the sentence's first token is (file by base name)."""
    return f"{sentence.domain or '-'}/{Path(sentence.file).name or '-'}/{sentence.line}"


@dataclass
class ExportSummary:
    sentences: int
    uncertain_tokens: int
    paths: list[Path] = field(default_factory=list)


def review_items(tagger: Tagger, sentences: Sequence[Sentence], threshold: float = DEFAULT_THRESHOLD,
                 budget: int | None = None, how: str = "max", base: float | None = None,
                 include_certain: bool = False) -> list[ReviewItem]:
    """Sentences with a token above ``threshold`` (or all), most uncertain first, at most ``budget``."""
    ents = entropies(tagger, sentences, base)
    preds = tagger.predict([s.tokens for s in sentences]) if sentences else []
    scores = [sentence_score(h, how) for h in ents]
    items = []
    for i in rank_by_uncertainty(scores):
        flags = [bool(v > threshold) for v in ents[i]]
        if not include_certain and not any(flags):
            continue
        s = sentences[i]
        items.append(ReviewItem(sentence_id(s), list(s.tokens), repair_iob2(preds[i]),
                                [float(v) for v in ents[i]], flags, scores[i]))
    return items if budget is None else items[:budget]


def format_review(items: Sequence[ReviewItem], labels: Sequence[str], threshold: float) -> str:
    out = ["# xner review file: edit the label column (2nd) only; '?' marks uncertain tokens",
           "# labels = " + " ".join(labels), f"# threshold = {threshold}", ""]
    for item in items:
        out += [f"# id = {item.sid}", f"# score = {item.score:.4f}"]
        for token, tag, flag in zip(item.tokens, item.tags, item.uncertain):
            out.append(f"{token}\t{tag}\t{UNCERTAIN if flag else CERTAIN}")
        out.append("")
    return "\n".join(out) + "\n"


def export_for_review(tagger: Tagger, sentences: Sequence[Sentence], out_dir: Path,
                      threshold: float = DEFAULT_THRESHOLD, budget: int | None = None, how: str = "max",
                      base: float | None = None, meta: Mapping[str, object] | None = None) -> ExportSummary:
    """Write review.conll, tasks.json, label_config.xml and manifest.json into ``out_dir``."""
    items = review_items(tagger, sentences, threshold, budget, how, base)
    labels = list(tagger.labels.tags)
    out = Path(out_dir)
    paths = [out / REVIEW_FILE, out / TASKS_FILE, out / CONFIG_FILE, out / MANIFEST_FILE]
    write_text(paths[0], format_review(items, labels, threshold))
    write_json(paths[1], labelstudio.make_tasks(items, labels, base))
    write_text(paths[2], labelstudio.label_config(tagger.labels.types))
    n_flags = sum(sum(i.uncertain) for i in items)
    write_json(paths[3], {**(meta or {}), "threshold": threshold, "budget": budget, "score": how,
                          "log_base": base or "e", "sentences": len(items), "uncertain_tokens": n_flags,
                          "labels": labels})
    return ExportSummary(len(items), n_flags, paths)


def read_review_file(path: Path) -> tuple[list[Reviewed], list[str] | None]:
    """Parse an edited review file into sentences; returns them and the ``# labels`` header."""
    path = Path(path)
    blocks = read_columns(path, _REVIEW_COLUMNS, read_utf8_text(path, "review file", allow_empty=True))
    items: list[Reviewed] = []
    labels: list[str] | None = None
    for block in blocks:
        first_token = block.rows[0].line if block.rows else None
        current: Reviewed | None = None
        for number, text in block.comments:
            key, _, value = text[1:].partition("=")
            key, value = key.strip(), value.strip()
            if first_token is not None and number > first_token:
                if key == "id":
                    raise DataError("'# id' line inside a sentence: add a blank line before it", path, number)
            elif key == "labels" and not items:
                labels = value.split()
            elif key == "id":
                current = Reviewed(value, [], [], str(path), number, [])
                items.append(current)
        if block.rows and current is None:
            raise DataError("token line without a '# id = ...' line above its sentence", path, first_token)
        for row in block.rows:
            assert current is not None
            _add_token(current, row, path)
    return items, labels


def _add_token(item: Reviewed, row: Row, path: Path) -> None:
    fields = row.fields
    if len(fields) == 3 and fields[2] in (CERTAIN, UNCERTAIN):
        fields = fields[:2]
    if len(fields) != 2:
        raise DataError(f"expected 'token<TAB>label<TAB>?|_', got {len(row.text.split(chr(9)))} "
                        f"column(s): {row.text[:60]!r}", path, row.line)
    item.tokens.append(fields[0])
    item.tags.append(fields[1])
    assert item.token_lines is not None
    item.token_lines.append(row.line)


def check_tags(item: Reviewed, labels: set[str]) -> None:
    """Known labels and valid IOB2 spans (an I- tag continues a B-/I- of its own type)."""
    unknown = next((i for i, tag in enumerate(item.tags) if tag not in labels), len(item.tags))
    # Label errors and broken spans are reported in token order (a label first on a tie).
    broken = next((v for v in violations(item.tags[:unknown], IOB2) if v.repairable), None)
    if broken is not None:
        i, tag = broken.index, item.tags[broken.index]
        previous = item.tags[i - 1] if i else "O"
        raise item.fail(f"broken span: {tag} on token {item.tokens[i]!r} follows {previous}; "
                        f"an entity starts with B-{tag[2:]}", i)
    if unknown < len(item.tags):
        raise item.fail(f"unknown label {item.tags[unknown]!r} for token {item.tokens[unknown]!r} "
                        f"(not in the label space: {' '.join(sorted(labels))})", unknown)


@dataclass
class ImportSummary:
    sentences: int
    changed_tokens: int
    written: list[Path]
    new_types: list[str]  # entity types the data had none of before (e.g. a label-mode mix-up)

    def message(self) -> str:
        """What ``annotate import`` and ``pull`` print: what was merged, and a note on new types."""
        text = (f"merged {self.sentences} sentences ({self.changed_tokens} labels changed) into "
                f"{', '.join(str(p) for p in self.written)}")
        if self.new_types:
            text += (f"\nnote: the data had no {', '.join(self.new_types)} entities before; check the label mode "
                     "of the exporting model")
        return text


def _parse_sid(item: Reviewed) -> tuple[str, str, int]:
    parts = item.sid.split("/")
    if len(parts) != 3 or not parts[2].isdigit():
        raise item.fail(f"malformed sentence id {item.sid!r} (expected domain/file/line)")
    return parts[0], parts[1], int(parts[2])


def _data_file(into: Path, domain: str, file: str) -> Path:
    """Where sentence ids point: ``into`` itself, a domain folder, or a data root."""
    if into.is_file():
        return into
    if (into / file).is_file() or domain in ("-", into.name):
        return into / file
    return into / domain / file


def _load_targets(items: Sequence[Reviewed], into: Path) -> dict[Path, list[Sentence]]:
    from xner.data.conll import read_conll

    if not into.exists():
        raise DataError("--into: no such file or folder", into)
    files: dict[Path, list[Sentence]] = {}
    for item in items:
        domain, file, _ = _parse_sid(item)
        path = _data_file(into, domain, file)
        if into.is_file() and (file != into.name or domain not in ("-", into.parent.name)):
            raise item.fail(f"unknown sentence id {item.sid!r}: it is not from {into}")
        if path not in files:
            if not path.is_file():
                raise item.fail(f"unknown sentence id {item.sid!r}: no data file {path}")
            files[path] = read_conll(path, domain="" if domain == "-" else domain)
    return files


def _match(item: Reviewed, into: Path, files: dict[Path, list[Sentence]]) -> tuple[Path, int]:
    """The data file and index of the sentence ``item`` edits; tokens must be unchanged."""
    domain, file, line = _parse_sid(item)
    path = _data_file(into, domain, file)
    index = next((i for i, s in enumerate(files[path]) if s.line == line), None)
    if index is None:
        raise item.fail(f"unknown sentence id {item.sid!r}: no sentence starts at line {line} of {path}")
    original = files[path][index]
    for i, (got, want) in enumerate(zip(item.tokens, original.tokens)):
        if got != want:
            raise item.fail(f"token {got!r} was changed (the data has {want!r}); edit labels only", i)
    if len(item.tokens) != len(original.tokens):
        missing = len(item.tokens) < len(original.tokens)
        # Point at the last token present (missing) or the first one too many (extra).
        raise item.fail(f"sentence {item.sid} has {len(item.tokens)} tokens but the data has "
                        f"{len(original.tokens)} ({'missing' if missing else 'extra'} token)",
                        len(item.tokens) - 1 if missing else len(original.tokens))
    return path, index


def merge_reviewed(items: Sequence[Reviewed], labels: Sequence[str] | None, into: Path,
                   out: Path | None = None) -> ImportSummary:
    """Validate every item, then write the corrected data file(s); nothing is written on error."""
    into = Path(into)
    files = _load_targets(items, into)
    label_set = set(labels) if labels else {t for ss in files.values() for s in ss for t in s.tags}
    label_set.add("O")
    seen: dict[str, Reviewed] = {}
    changed = 0
    old_types = {t[2:] for ss in files.values() for s in ss for t in s.tags if t != "O"}
    for item in items:
        if item.sid in seen:
            first = seen[item.sid]
            where = f"line {first.line}" if first.line else first.context.rstrip(": ")
            raise item.fail(f"duplicate sentence id {item.sid!r} (first at {where})")
        seen[item.sid] = item
        check_tags(item, label_set)
        path, index = _match(item, into, files)
        old = files[path][index]
        changed += sum(a != b for a, b in zip(old.tags, item.tags))
        files[path][index] = old.with_tags(item.tags)
    if out is not None and len(files) > 1:
        raise DataError(f"--out needs sentences from one data file, these span {len(files)}", out)
    return ImportSummary(len(items), changed, _write(files, out), _new_types(items, old_types))


def _new_types(items: Sequence[Reviewed], old_types: set[str]) -> list[str]:
    return sorted({t[2:] for item in items for t in item.tags if t != "O"} - old_types)


def _write(files: dict[Path, list[Sentence]], out: Path | None) -> list[Path]:
    from xner.data.conll import write_conll

    written = []
    for path, sentences in files.items():
        target = Path(out) if out is not None else path
        write_conll(target, sentences)  # atomic: temp file + rename
        written.append(target)
    return written


def import_reviewed(path: Path, into: Path, out: Path | None = None) -> ImportSummary:
    """Import an edited review.conll or a Label Studio JSON export (by suffix) into the data."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such review file", path)
    if path.suffix.lower() == ".json":
        items, labels = labelstudio.read_export(path)
    else:
        items, labels = read_review_file(path)
    if not items:
        raise DataError("no reviewed sentences in this file", path)
    return merge_reviewed(items, labels, into, out)
