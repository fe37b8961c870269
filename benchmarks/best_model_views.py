"""How honest models and models fit to the public test labels score on each view of CIFAR-10.

    CIFAR10_ARCHIVE=... CIFAR10_MD5=... .venv/bin/python benchmarks/best_model_views.py \\
        [--best best_model.npz] [--threads 1]

CIFAR-10's test labels are public, so a model can be fit to the very images best_model is
scored on (tests/test_redteam.py: a ridge regression onto the test labels). This script
measures, for honest models and for such fits, the accuracy on each view the grader could
score on (autograder/best_model.py: GRADED_VIEWS, and the shifted test images for comparison): the test images as they are, mirrored, shifted,
and a random sample of the training images get_CIFAR10_data() trains on. It prints one
row per model and the graded accuracy (the lowest of the graded views) with its points.

Honest models: a linear classifier (ridge regression on the training images), random ReLU
features with a ridge read-out (4,096 hidden units) fit to the training images, the
chapter-5 network (answer_key.best_model.BASELINE) and, with --best, a model from
benchmarks/best_model.py. Attacks: the same closed-form fits, to the test images (and
their mirror images), and to the training and test images together.
"""
import argparse
import os
import sys
import time


def _ridge(features, labels, reg):
    """Read-out weights (F + 1, 10) of a ridge regression onto +-1 one-hot targets."""
    import numpy as np

    n, f = features.shape
    gram = np.zeros((f + 1, f + 1))
    rhs = np.zeros((f + 1, 10))
    for start in range(0, n, 5000):
        A = np.hstack([features[start:start + 5000], np.ones((min(5000, n - start), 1),
                                                            dtype=features.dtype)])
        T = -np.ones((len(A), 10))
        T[np.arange(len(A)), labels[start:start + 5000]] = 1
        gram += (A.T @ A).astype(np.float64)
        rhs += (A.T @ T).astype(np.float64)
    return np.linalg.solve(gram + reg * np.eye(f + 1), rhs)


def linear_model(X, y, reg=1e4):
    """W1 = identity, b1 a large shift so the ReLU passes everything, W2, b2 from ridge."""
    import numpy as np

    W = _ridge(X.reshape(len(X), -1), y, reg)
    shift = 1000.0
    D = W.shape[0] - 1
    return {"W1": np.eye(D, dtype=np.float32), "b1": np.full(D, shift, np.float32),
            "W2": W[:-1].astype(np.float32),
            "b2": (W[-1] - shift * W[:-1].sum(axis=0)).astype(np.float32)}


def random_features_model(X, y, hidden=4096, reg=1e2, seed=0):
    """Random ReLU features (a fixed random W1) and a ridge read-out W2: no training loop."""
    import numpy as np

    rng = np.random.default_rng(seed)
    X = X.reshape(len(X), -1)
    W1 = (rng.standard_normal((X.shape[1], hidden)) / np.sqrt(X.shape[1]) / 60).astype(np.float32)
    b1 = (0.5 * rng.standard_normal(hidden)).astype(np.float32)
    H = np.empty((len(X), hidden), dtype=np.float32)
    for start in range(0, len(X), 5000):
        H[start:start + 5000] = np.maximum(X[start:start + 5000] @ W1 + b1, 0)
    W = _ridge(H, y, reg * len(X) / 10000)
    return {"W1": W1, "b1": b1, "W2": W[:-1].astype(np.float32),
            "b2": W[-1].astype(np.float32)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--best", help="a best_model.npz from benchmarks/best_model.py")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--seed", type=int, default=20240611, help="seed of the grading views")
    p.add_argument("--skip-random-features", action="store_true")
    args = p.parse_args(argv)
    if args.threads is not None:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    import numpy as np

    from answer_key.best_model import BASELINE, train_best_model
    from autograder import data
    from autograder.best_model import GRADED_VIEWS, graded_accuracy, load_params, make_views, points
    from fcnet.data_utils import get_CIFAR10_data

    started = time.perf_counter()
    load = os.getloadavg()[0]
    cifar = get_CIFAR10_data(num_test=10000, dtype=np.float32)
    Xtr, ytr, Xte, yte = cifar["X_train"], cifar["y_train"], cifar["X_test"], cifar["y_test"]
    mirror = Xte[..., ::-1]
    views = make_views(np.random.default_rng(args.seed), every_view=True)

    models = {}
    models["honest: linear (ridge on the 49,000 training images)"] = linear_model(Xtr, ytr)
    chapter5, _ = train_best_model(cifar, seed=0, verbose=False, **BASELINE)
    models["honest: chapter-5 net (BASELINE, 100 hidden, 10 epochs SGD)"] = chapter5.params
    if args.best:
        with open(args.best, "rb") as handle:
            models["honest: answer_key.best_model recipe (--best)"] = load_params(handle.read())
    models["attack: ridge on the test labels (red team)"] = linear_model(Xte, yte)
    models["attack: ridge on test + mirrored test"] = linear_model(
        np.concatenate([Xte, mirror]), np.concatenate([yte, yte]))
    models["attack: ridge on training + test"] = linear_model(
        np.concatenate([Xtr, Xte]), np.concatenate([ytr, yte]))
    if not args.skip_random_features:
        models["honest: 4,096 random ReLU features, ridge on training"] = \
            random_features_model(Xtr, ytr)
        models["attack: 4,096 random ReLU features, ridge on test"] = \
            random_features_model(Xte, yte)
        models["attack: 4,096 random ReLU features, ridge on test + mirrored"] = \
            random_features_model(np.concatenate([Xte, mirror]), np.concatenate([yte, yte]))
        models["attack: 4,096 random ReLU features, ridge on training + test"] = \
            random_features_model(np.concatenate([Xtr, Xte]), np.concatenate([ytr, yte]))
    del cifar, Xtr, Xte, mirror

    names = list(views)
    print(f"accuracy per view (views drawn with seed {args.seed}; graded: "
          f"{', '.join(GRADED_VIEWS)}); load average {load:.1f}")
    print("| model | " + " | ".join(names) + " | graded | points /10 |")
    print("|---|" + "---|" * (len(names) + 2))
    for label, params in models.items():
        params = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
        accs = {name: view.accuracy(params) for name, view in views.items()}
        graded = graded_accuracy(accs)
        print(f"| {label} | " + " | ".join(f"{accs[n]:.4f}" for n in names) +
              f" | {graded:.4f} | {10 * points(graded):.2f} |", flush=True)
    print(f"{time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.1f} "
          f"at the end; {data.__name__} views of the grader")
    return 0


if __name__ == "__main__":
    sys.exit(main())
