"""Train qawl's WordPiece vocabulary on raw Arabic news (AraBERT v0.2-style pre-normalized).

    python scripts/train_tokenizer.py --config configs/tokenizer.yaml

Prints vocabulary size, unknown rate and subwords per word on held-out documents.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

from qawl.config import load_config, parse_overrides, save_config
from qawl.normalize import NormalizerConfig, normalize_fast
from qawl.rawtext import iter_split
from qawl.tokenizer import load_tokenizer, train_wordpiece


@dataclass(frozen=True)
class TokenizerConfig:
    corpus: str
    output_dir: str
    vocab_size: int = 32000
    min_frequency: int = 3
    limit_alphabet: int = 600
    heldout_percent: float = 1.0


def heldout_report(tok, corpus: str, heldout_percent: float, norm: NormalizerConfig) -> dict:
    words = subwords = unknown = 0
    for paragraphs in iter_split(corpus, "heldout", heldout_percent):
        for para in paragraphs:
            text = normalize_fast(para, norm)
            for word in text.split():
                ids = tok(word, add_special_tokens=False)["input_ids"]
                words += 1
                subwords += len(ids)
                unknown += sum(i == tok.unk_token_id for i in ids)
    return {"heldout_words": words, "subwords_per_word": round(subwords / max(words, 1), 4),
            "unknown_rate": round(unknown / max(subwords, 1), 6)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/tokenizer.yaml")
    ap.add_argument("overrides", nargs="*", help="dotted overrides, e.g. vocab_size=16000")
    args = ap.parse_args()
    cfg = load_config(TokenizerConfig, args.config, parse_overrides(args.overrides))
    norm = NormalizerConfig()

    def texts():
        for paragraphs in iter_split(cfg.corpus, "train", cfg.heldout_percent):
            yield normalize_fast("\n".join(paragraphs), norm)

    t0 = time.time()
    tok = train_wordpiece(texts(), cfg.vocab_size, cfg.min_frequency, cfg.limit_alphabet)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(out)
    norm.save(out)
    save_config(cfg, out / "tokenizer_config.yaml")
    reloaded = load_tokenizer(out)
    assert len(reloaded) == len(tok), "reloaded tokenizer differs"
    report = {"vocab_size": len(tok), "train_seconds": round(time.time() - t0, 1)}
    report.update(heldout_report(reloaded, cfg.corpus, cfg.heldout_percent, norm))
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
