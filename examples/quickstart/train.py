"""A tiny stand-in for a training script: mrun's example experiment.

Run it with `make run`, or from this directory with `mrun run train.py -- --epochs 3`.
"""
import argparse
import json
import os
import pathlib
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args()

    print(f"experiment {os.environ.get('MRUN_EXPERIMENT', '?')} in project {os.environ.get('MRUN_PROJECT', '?')}")
    print("neptune credentials:", "present" if os.environ.get("NEPTUNE_API_TOKEN") else "absent")
    loss = 1.0
    for epoch in range(1, args.epochs + 1):
        loss *= 1 - args.lr
        print(f"epoch {epoch}/{args.epochs} loss {loss:.4f}")
        time.sleep(0.2)

    storage = pathlib.Path(os.environ.get("STORAGE_DIR", "."))
    storage.mkdir(parents=True, exist_ok=True)
    result = storage / f"{os.environ.get('MRUN_EXPERIMENT', 'local')}.json"
    result.write_text(json.dumps({"epochs": args.epochs, "loss": loss}))
    print(f"wrote {result}")


if __name__ == "__main__":
    main()
