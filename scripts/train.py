"""Fine-tune qawl (same as `qawl train`): python scripts/train.py --config configs/qawl-small.yaml"""

import sys

from qawl.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
