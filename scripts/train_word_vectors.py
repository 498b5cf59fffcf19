"""Train static word vectors on the raw news text and export a fixed table for qawl's word features.

    python scripts/train_word_vectors.py --config configs/wordvec.yaml

Why: the small encoder saw only ~7M tokens of masked-LM pretraining; static vectors trained on all ~17M raw
words in minutes carry what a word *is* (person name, place, organisation) into fine-tuning. The default is
word2vec skip-gram (`max_n: 0`, `skipgram: true`): its neighbours are words used alike. fastText (`max_n` > 0)
adds character n-grams, which with CBOW made spelling dominate the neighbours and helped NER less (README).

Words are exactly what qawl's encoder sees as words: the text is normalized with the tokenizer directory's
normalizer settings and split by the tokenizer's pre-tokenizer (whitespace and punctuation). Held-out raw
documents (the pretraining split) are left out. The export is the `vocab_size` most frequent words, row 0
reserved for unknown words (zeros), as int8 with a scale per row in `vectors.safetensors` + `vocab.txt` + `config.json`;
see qawl/wordvec.py. Needs `pip install -e ".[wordvec]"` (gensim; a training-time dependency only).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tokenizers import pre_tokenizers

from qawl.config import load_config, parse_overrides, save_config
from qawl.normalize import NormalizerConfig, normalize_fast
from qawl.rawtext import iter_split
from qawl.wordvec import WordVectors


@dataclass(frozen=True)
class WordVectorConfig:
    corpus: str
    tokenizer: str  # its normalizer.json defines the normalization the words get
    output_dir: str
    dim: int = 64
    vocab_size: int = 100_000
    min_count: int = 3
    window: int = 5
    epochs: int = 5
    min_n: int = 2  # character n-gram lengths; max_n: 0 trains plain word2vec (no n-grams)
    max_n: int = 5
    skipgram: bool = False  # skip-gram instead of CBOW
    threads: int = 2
    heldout_percent: float = 1.0
    seed: int = 13


def write_corpus(cfg: WordVectorConfig, norm: NormalizerConfig, path: Path) -> int:
    """One normalized, pre-tokenized paragraph per line (gensim's fast corpus_file mode); returns words."""
    split = pre_tokenizers.BertPreTokenizer()
    n_words = 0
    with open(path, "w", encoding="utf-8") as f:
        for paragraphs in iter_split(cfg.corpus, "train", cfg.heldout_percent):
            for para in paragraphs:
                words = [w for w, _ in split.pre_tokenize_str(normalize_fast(para, norm))]
                n_words += len(words)
                f.write(" ".join(words) + "\n")
    return n_words


def main(argv: list[str] | None = None) -> None:
    from gensim.models import FastText, Word2Vec

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True)
    p.add_argument("overrides", nargs="*", help="key=value")
    args = p.parse_args(argv)
    cfg = load_config(WordVectorConfig, args.config, parse_overrides(args.overrides))
    norm = NormalizerConfig.load(cfg.tokenizer)

    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        corpus_file = Path(tmp) / "corpus.txt"
        n_words = write_corpus(cfg, norm, corpus_file)
        t1 = time.time()
        print(f"corpus: {n_words:,} words in {t1 - t0:.0f} s", flush=True)
        common = {"vector_size": cfg.dim, "window": cfg.window, "min_count": cfg.min_count,
                  "sg": int(cfg.skipgram), "workers": cfg.threads, "seed": cfg.seed}
        if cfg.max_n:
            model = FastText(min_n=cfg.min_n, max_n=cfg.max_n, **common)
        else:
            model = Word2Vec(**common)
        model.build_vocab(corpus_file=str(corpus_file))
        model.train(corpus_file=str(corpus_file), epochs=cfg.epochs, total_words=model.corpus_total_words,
                    total_examples=model.corpus_count)
    t2 = time.time()
    kv = model.wv
    words = kv.index_to_key[: cfg.vocab_size]  # gensim sorts by descending frequency
    covered = sum(kv.get_vecattr(w, "count") for w in words)
    total = sum(kv.get_vecattr(w, "count") for w in kv.index_to_key)
    report = {
        "corpus_words": n_words,
        "types_min_count": len(kv.index_to_key),
        "exported_words": len(words),
        "token_coverage_of_exported": round(covered / total, 4),
        "train_seconds": round(t2 - t1),
        "neighbours": {w: [n for n, _ in kv.most_similar(w, topn=5)]
                       for w in ("القاهرة", "محمد", "عرفات", "الأمم", "قال") if w in kv.key_to_index},
    }
    WordVectors.from_vectors(words, kv[words], source=asdict(cfg) | {"normalizer": asdict(norm), "report": report}).save(cfg.output_dir)
    save_config(cfg, Path(cfg.output_dir) / "wordvec_config.yaml")
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
