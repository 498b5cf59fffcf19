"""`qawl train --config configs/qawl-small.yaml [key=value ...]`"""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="fine-tune a model for entities and statements (resumable)")
    p.add_argument("--config", required=True, help="a configs/*.yaml file")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted config overrides, e.g. lr=3e-5")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from qawl.config import load_config, parse_overrides
    from qawl.train import TrainConfig, train

    overrides = parse_overrides(args.overrides)
    if args.max_steps is not None:
        overrides["max_steps"] = str(args.max_steps)
    state = train(load_config(TrainConfig, args.config, overrides))
    print(json.dumps({k: state[k] for k in ("step", "epoch", "best", "best_epoch") if k in state}))
    return 0
