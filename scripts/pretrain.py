"""Pretraining of qawl's BERT encoder, masked-LM or ELECTRA (`objective` in the config).
Resumable: rerun the same command after a kill.

    python scripts/pretrain.py --config configs/pretrain-small.yaml            # train / resume
    accelerate launch scripts/pretrain.py --config configs/pretrain-small.yaml # one or many GPUs
    python scripts/pretrain.py --config configs/pretrain-small.yaml --export models/qawl-encoder-small
"""

from __future__ import annotations

import argparse
import json

from qawl.config import load_config, parse_overrides
from qawl.pretrain import PretrainConfig, export_encoder, pretrain


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--export", metavar="DIR", help="save the latest checkpoint as a model directory and exit")
    ap.add_argument("overrides", nargs="*", help="dotted overrides, e.g. max_steps=2000 num_threads=1")
    args = ap.parse_args()
    cfg = load_config(PretrainConfig, args.config, parse_overrides(args.overrides))
    if args.export:
        print(export_encoder(cfg, args.export))
        return
    print(json.dumps(pretrain(cfg), indent=2))


if __name__ == "__main__":
    main()
