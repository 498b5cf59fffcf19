"""WordPiece tokenizer built with `tokenizers` and wrapped as a `transformers` fast tokenizer.

qawl normalizes text itself (normalize.py, with an offset map), so the tokenizer's own normalizer only
cleans control characters: no lowercasing and no accent stripping (which would strip hamza: أ -> ا).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from qawl.errors import ModelError

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _bert_pipeline(tok: Tokenizer) -> Tokenizer:
    """The pieces around the WordPiece model, the same for a trained and a loaded vocabulary."""
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=False, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    return tok


def _add_post_processor(tok: Tokenizer) -> Tokenizer:
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    return tok


def train_wordpiece(texts: Iterable[str], vocab_size: int, min_frequency: int = 2,
                    limit_alphabet: int = 1000) -> PreTrainedTokenizerFast:
    tok = _bert_pipeline(Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100)))
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=SPECIAL_TOKENS, limit_alphabet=limit_alphabet,
                                        continuing_subword_prefix="##")
    tok.train_from_iterator(texts, trainer=trainer)
    return wrap(_add_post_processor(tok))


def from_tokens(tokens: list[str]) -> PreTrainedTokenizerFast:
    """A WordPiece tokenizer over a fixed vocabulary, numbered in list order (first occurrence wins)."""
    vocab: dict[str, int] = {}
    for token in tokens:
        vocab.setdefault(token, len(vocab))
    tok = _bert_pipeline(Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100)))
    return wrap(_add_post_processor(tok))


def from_vocab_file(path: Path) -> PreTrainedTokenizerFast:
    """A fast tokenizer from a BERT `vocab.txt` (AraBERT, CAMeLBERT copies).

    Built with `tokenizers` directly: `BertTokenizer(vocab_file=...)` in recent transformers ignores the
    file and maps every Arabic word to [UNK]. Accents are kept (stripping them would strip hamza)."""
    tokens = [line.rstrip("\n") for line in path.read_text(encoding="utf-8").splitlines()]
    missing = [t for t in SPECIAL_TOKENS if t not in tokens]
    if missing:
        raise ModelError(f"{path}: special tokens {missing} are missing from the vocabulary")
    return from_tokens(tokens)


def wrap(tok: Tokenizer) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def load_tokenizer(directory: str | Path, expected_vocab_size: int | None = None) -> PreTrainedTokenizerFast:
    """Load a tokenizer directory; refuse one whose vocabulary does not match the model's."""
    directory = Path(directory)
    if not (directory / "tokenizer.json").exists() and not (directory / "vocab.txt").exists():
        raise ModelError(f"{directory}: no tokenizer.json or vocab.txt; not a tokenizer directory")
    try:
        if (directory / "tokenizer.json").exists():
            tok = wrap(Tokenizer.from_file(str(directory / "tokenizer.json")))
        else:  # an external BERT checkpoint (e.g. AraBERT) with only vocab.txt
            tok = from_vocab_file(directory / "vocab.txt")
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - `tokenizers` raises a bare Exception for a corrupt file
        name = "tokenizer.json" if (directory / "tokenizer.json").exists() else "vocab.txt"
        raise ModelError(f"{directory / name}: unreadable tokenizer ({exc}); the file is truncated or corrupt") \
            from None
    if expected_vocab_size is not None and len(tok) > expected_vocab_size:
        raise ModelError(f"{directory}: tokenizer has {len(tok)} tokens but the model's embedding has "
                         f"{expected_vocab_size} rows; tokenizer and weights do not belong together")
    return tok
