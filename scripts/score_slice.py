"""Statement scores of the rules alone and of a model (with its rule fallback) on a slice of an annotated file.

For checking a change against articles that did not guide it, e.g. the training articles after the first 400:

    python scripts/score_slice.py --model models/qawl-small --data ../shared/data/quotes/train.jsonl --start 400

(the model saw training articles in training, so its absolute figures there are optimistic; the rules did not).
"""

from __future__ import annotations

import argparse

from qawl.baseline import RuleBasedExtractor
from qawl.corpus import read_documents
from qawl.document import Document
from qawl.metrics import evaluate
from qawl.pipeline import Extractor


def line(name: str, gold: list[Document], predicted: list[Document]) -> str:
    st = evaluate(gold, predicted, n_resamples=0)["statements"]
    sa = st["speaker_accuracy"]
    return (f"{name}: content F1 {100 * st['content_overlap']['f1']:.1f}  speaker accuracy {100 * sa['accuracy']:.1f} "
            f"({sa['correct']}/{sa['total']})  statement F1 {100 * st['statement']['f1']:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True, help="an annotated .jsonl file")
    ap.add_argument("--start", type=int, default=0, help="first document (0-based)")
    ap.add_argument("--end", type=int, default=None, help="one past the last document")
    args = ap.parse_args()
    gold = list(read_documents(args.data))[args.start:args.end]
    bare = [Document(g.id, g.text) for g in gold]
    print(f"{args.data} documents {args.start}..{args.start + len(gold) - 1} ({len(gold)})")
    print(line("rules alone", gold, list(RuleBasedExtractor().pipe(bare))))
    print(line(args.model, gold, list(Extractor.load(args.model).pipe(bare))))


if __name__ == "__main__":
    main()
