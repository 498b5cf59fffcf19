"""Tiny invented Arabic news texts and a tiny model built from configs/smoke.yaml, for fast tests."""

from __future__ import annotations

import gzip
from pathlib import Path

from qawl.document import Document, Entity, Span, Statement

REPO = Path(__file__).resolve().parents[1]

# Invented news-style sentences (not taken from any corpus).
SENTENCES = [
    "قال وزير الخارجية سامي الحداد إن بلاده ترحب بالحوار مع جيرانها.",
    "وأكدت وزارة الصحة في بيان أن عدد المصابين تراجع خلال الأسبوع الماضي.",
    "وأضاف الحداد أن الاجتماع المقبل سيعقد في عمان الشهر القادم.",
    "وبحسب وكالة الأنباء المحلية، فإن الحكومة تدرس خطة جديدة للنقل العام.",
    "أعلنت شركة النور للطاقة عن افتتاح محطة شمسية في مدينة الزرقاء.",
    "ودعا رئيس البلدية ليلى منصور السكان إلى ترشيد استهلاك المياه.",
    "ونفى المتحدث باسم الجيش وجود أي تحركات عسكرية قرب الحدود.",
    "وأشار التقرير إلى ارتفاع أسعار القمح في الأسواق العالمية بنسبة 3.5 بالمئة.",
    "وقالت منصور: \"نعمل ليلا ونهارا من أجل سكان المدينة\".",
    "وأوضح الخبير الاقتصادي كريم عادل أن الدولار سجل تراجعا أمام اليورو.",
]


def write_raw_corpus(path: Path, n_docs: int = 40) -> Path:
    """A raw pretraining file: paragraphs one a line, a blank line between documents."""
    lines = []
    for d in range(n_docs):
        for k in range(3):
            lines.append(SENTENCES[(d + k) % len(SENTENCES)] + f" العدد {d}")
        lines.append("")
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def _find(text: str, needle: str, after: int = 0) -> Span:
    i = text.index(needle, after)
    return Span(i, i + len(needle), needle)


def annotated_article(doc_id: str = "t1", repeat: int = 1) -> Document:
    """A small article with entities and statements, char offsets computed from the text."""
    parts = ["الحداد: لا تغيير في سياستنا", ""]
    for _ in range(repeat):
        parts += SENTENCES[:3] + SENTENCES[5:6] + SENTENCES[8:9]
    text = "\n".join(parts)
    ents, stmts = [], []
    for name, label in (("سامي الحداد", "PERS"), ("وزارة الصحة", "ORG"), ("عمان", "LOC"), ("ليلى منصور", "PERS")):
        pos = 0
        while name in text[pos:]:
            s = _find(text, name, pos)
            ents.append(Entity(s.start, s.end, label, s.text))
            pos = s.end
    # the bare "الحداد" (headline and continuation) and "منصور" mentions are PERS too
    for short in ("الحداد", "منصور"):
        pos = 0
        while short in text[pos:]:
            s = _find(text, short, pos)
            if not any(e.start <= s.start < e.end for e in ents):
                ents.append(Entity(s.start, s.end, "PERS", s.text))
            pos = s.end
    ents.sort(key=lambda e: e.start)
    pos, n = 0, 0
    for _ in range(repeat):
        cue = _find(text, "قال", pos)
        spk = _find(text, "وزير الخارجية سامي الحداد", cue.end)
        con = _find(text, "إن بلاده ترحب بالحوار مع جيرانها", spk.end)
        n += 1
        stmts.append(Statement(f"S{n}", con, cue, spk, None, "سامي الحداد", "indirect"))
        cue2 = _find(text, "أكدت", con.end)
        spk2 = _find(text, "وزارة الصحة", cue2.end)
        con2 = _find(text, "أن عدد المصابين تراجع خلال الأسبوع الماضي", spk2.end)
        n += 1
        stmts.append(Statement(f"S{n}", con2, cue2, spk2, None, "وزارة الصحة", "indirect"))
        cue3 = _find(text, "أضاف", con2.end)
        spk3 = _find(text, "الحداد", cue3.end)
        con3 = _find(text, "أن الاجتماع المقبل سيعقد في عمان الشهر القادم", spk3.end)
        n += 1
        stmts.append(Statement(f"S{n}", con3, cue3, spk3, None, "سامي الحداد", "indirect"))
        pos = con3.end
    doc = Document(doc_id, text, {"source": "test"}, ents, stmts)
    doc.check()
    return doc


def build_tokenizer(directory: Path) -> Path:
    """A tiny WordPiece tokenizer over the words and letters of the invented texts.

    Built from a fixed vocabulary rather than trained: the WordPiece trainer picks a slightly different
    vocabulary on every run, and tests that compare two trainings need the same ids."""
    from qawl.normalize import NormalizerConfig, normalize_fast
    from qawl.tokenizer import SPECIAL_TOKENS, from_tokens

    text = normalize_fast(" ".join(SENTENCES + [annotated_article().text]))
    words = sorted(set(text.split()))
    chars = sorted(set(text) - {" ", "\n"} | set("0123456789"))
    # frequent words whole; the rest are spelled with letters, so nothing is [UNK]
    tokens = SPECIAL_TOKENS + chars + ["##" + c for c in chars] + [w for w in words if text.count(w) > 1]
    directory.mkdir(parents=True, exist_ok=True)
    from_tokens(tokens).save_pretrained(directory)
    NormalizerConfig().save(directory)
    return directory


def build_tiny_model(root: Path, epochs: int = 20, tokenizer_dir: Path | None = None, **overrides) -> Path:
    """Train configs/smoke.yaml on invented articles for a few seconds; returns the saved model directory.

    WordPiece training assigns ids in a different order on every run, so runs that must compare weights
    share one `tokenizer_dir`."""
    from qawl.config import load_config
    from qawl.corpus import write_jsonl
    from qawl.train import TrainConfig, train

    root.mkdir(parents=True, exist_ok=True)
    docs = [annotated_article(f"d{i}", repeat=1 + i % 3) for i in range(6)]
    write_jsonl(docs, root / "train.jsonl")
    write_jsonl(docs[:2], root / "dev.jsonl")
    tok = tokenizer_dir or build_tokenizer(root / "tok")
    values = {"output_dir": str(root / "run"), "model_dir": str(root / "model"),
              "random_encoder.tokenizer_dir": str(tok), "quotes_train": str(root / "train.jsonl"),
              "quotes_dev": str(root / "dev.jsonl"), "epochs": str(epochs), "patience": str(epochs)}
    values.update({k: str(v) for k, v in overrides.items()})
    train(load_config(TrainConfig, REPO / "configs" / "smoke.yaml", values))
    return root / "model"
