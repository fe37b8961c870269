"""Train the course's best two-layer net from scratch and report its CIFAR-10 test accuracy.

    CIFAR10_ARCHIVE=../shared/data/cifar-10-python.tar.gz \\
    CIFAR10_MD5=f6a5bb329491051f72ffb4c31a1b03bf \\
        .venv/bin/python benchmarks/best_model_from_scratch.py --out best_model.npz

Loads get_CIFAR10_data(num_test=10000, dtype=float32), runs
answer_key.best_model.train_best_model with the recipe in answer_key.best_model.RECIPE,
then prints the accuracy on all 10,000 test images and the wall time of the whole run
(loading included), and saves W1, b1, W2, b2 to --out. The saved model applies to
get_CIFAR10_data's preprocessing: check it independently with

    model = TwoLayerNet(); model.params = dict(np.load("best_model.npz"))
    accuracy = (model.loss(data["X_test"]).argmax(1) == data["y_test"]).mean()
"""
import argparse
import json
import os
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="where to save best_model.npz")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=float, default=600.0,
                   help="seconds for the whole run, data loading included (default 600)")
    p.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                   help="override recipe entries, e.g. --set hidden_dim=1024 epochs=20")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads (default: the library's own choice, all cores). On a "
                        "busy shared machine 1 can be several times faster than 2.")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.threads is not None:
        if "numpy" in sys.modules:
            p.error("--threads must be set before numpy is imported")
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    from answer_key.best_model import RECIPE
    args.overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        if name not in RECIPE:
            p.error(f"unknown recipe entry {name!r}; known: {', '.join(RECIPE)}")
        args.overrides[name] = json.loads(value.replace("True", "true")
                                          .replace("False", "false"))
    return args


def evaluate_saved(path, data):
    """Load the saved model into a fresh TwoLayerNet, as anyone else would, and return it
    with its accuracy on the test set."""
    import numpy as np

    from answer_key.best_model import accuracy
    from answer_key.classifiers.fc_net import TwoLayerNet

    saved = TwoLayerNet(input_dim=3 * 32 * 32, hidden_dim=1, dtype=np.float32)
    with np.load(path) as f:
        saved.params = {k: f[k] for k in ("W1", "b1", "W2", "b2")}
    return saved, accuracy(saved, data["X_test"], data["y_test"])


def main(argv=None):
    start = time.perf_counter()
    args = parse_args(argv)
    import numpy as np

    from answer_key.best_model import RECIPE, save_model, train_best_model
    from answer_key.data_utils import get_CIFAR10_data
    from solver_speed import machine_description   # benchmarks/ is on sys.path

    load_before = os.getloadavg()
    data = get_CIFAR10_data(num_test=10000, dtype=np.float32)
    loaded = time.perf_counter() - start
    # Leave 15 s of the budget for folding, testing and saving.
    budget = args.budget - loaded - 15
    model, info = train_best_model(data, seed=args.seed, time_budget=budget,
                                   verbose=not args.quiet, **args.overrides)
    save_model(model, args.out)
    saved, test_acc = evaluate_saved(args.out, data)
    wall = time.perf_counter() - start

    settings = {k: v for k, v in info["settings"].items() if k in RECIPE}
    print(f"recipe: {json.dumps(settings)}")
    print(f"seed {args.seed}; {info['epochs_done']:.1f} epochs; hidden units in the saved "
          f"model: {saved.params['W1'].shape[1]}")
    threads = args.threads if args.threads is not None else "default"
    print(f"machine: {machine_description()}, BLAS threads {threads}; load "
          f"average at start {load_before[0]:.2f}, at end {os.getloadavg()[0]:.2f}")
    print(f"validation accuracy: {info['val_acc']:.4f}")
    print(f"test accuracy (10,000 images): {test_acc:.4f}")
    print(f"wall time: {wall:.0f} s (loading {loaded:.0f} s, training {info['seconds']:.0f} s)")
    print(f"saved to {args.out}")


if __name__ == "__main__":
    main()
