"""What each ingredient of the best-model recipe is worth: train the recipe with one
ingredient taken out at a time, every run under the same wall-clock budget, and print a
table of test accuracies (all 10,000 test images).

    CIFAR10_ARCHIVE=../shared/data/cifar-10-python.tar.gz \\
    CIFAR10_MD5=f6a5bb329491051f72ffb4c31a1b03bf \\
        .venv/bin/python benchmarks/best_model_ablation.py --budget 120 --threads 1

A short budget ranks the ingredients for short training; the full 10-minute recipe is
benchmarks/best_model_from_scratch.py. Wall-clock budgets make the numbers depend on the
machine and its load, which the script prints; `--epochs N` gives every variant N epochs instead.
"""
import argparse
import os
import sys
import time

# name -> recipe overrides; "recipe" is the full recipe, the others take one thing out.
VARIANTS = {
    "recipe": {},
    "no whitening (raw pixels)": {"num_components": None, "learning_rate": 2e-4,
                                  "init_scale": 1e-3},
    "no augmentation": {"shift": 0, "flip": False},
    "no momentum": {"momentum": 0.0, "learning_rate": 0.5},
    "no weight decay": {"weight_decay": 0.0},
    "constant learning rate": {"schedule": "constant", "learning_rate": 0.01},
    "no flip averaging": {"fold_flip": False},
    "hidden 512 instead of 2048": {"hidden_dim": 512},
    "plus dropout (keep 0.8)": {"keep_prob": 0.8},
    "plain SGD baseline": "BASELINE",
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", type=float, default=120.0, help="seconds per run")
    p.add_argument("--epochs", type=float, default=None,
                   help="train every variant for this many epochs instead of --budget "
                        "seconds (outcomes then do not depend on the machine's load)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", nargs="*", help="run only the variants whose name starts so")
    args = p.parse_args(argv)
    if args.threads is not None:
        if "numpy" in sys.modules:
            p.error("--threads must be set before numpy is imported")
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    import numpy as np

    from answer_key.best_model import BASELINE, accuracy, train_best_model
    from answer_key.data_utils import get_CIFAR10_data

    data = get_CIFAR10_data(num_test=10000, dtype=np.float32)
    rows = []
    for name, overrides in VARIANTS.items():
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        overrides = BASELINE if overrides == "BASELINE" else overrides
        load = os.getloadavg()[0]
        start = time.perf_counter()
        if args.epochs is not None:
            overrides = {**overrides, "epochs": args.epochs}
        model, info = train_best_model(
            data, seed=args.seed, verbose=False,
            time_budget=None if args.epochs is not None else args.budget, **overrides)
        test_acc = accuracy(model, data["X_test"], data["y_test"])
        rows.append((name, test_acc, info["val_acc"], info["epochs_done"],
                     time.perf_counter() - start, load))
        print(f"{name}: test {test_acc:.4f}, val {info['val_acc']:.3f}, "
              f"{info['epochs_done']:.1f} epochs, load {load:.1f}", flush=True)

    threads = args.threads if args.threads is not None else "default"
    budget = f"{args.epochs:g} epochs" if args.epochs is not None else f"{args.budget:.0f} s"
    print(f"\nbudget {budget} per run, BLAS threads {threads}, seed {args.seed}\n")
    print("| variant | test acc | val acc | epochs | seconds | load avg |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, test_acc, val_acc, epochs, seconds, load in rows:
        print(f"| {name} | {test_acc:.3f} | {val_acc:.3f} | {epochs:.1f} | {seconds:.0f} |"
              f" {load:.1f} |")


if __name__ == "__main__":
    main()
