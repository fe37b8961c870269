"""Epoch time of the answer key's Solver next to PyTorch (CPU) training the same net.

Both sides train affine - relu - affine - softmax on CIFAR-10 in float32 with plain SGD,
minibatches of 100 drawn with replacement, the same starting weights and the same thread
count, and both measure accuracy the way the Solver does (1,000 training examples and the
validation set, at the start and at the end of the epoch). One repetition is one epoch from
a fresh Solver; the table gives the median over the repetitions and numpy / PyTorch.
The numpy side is the plain answer key, as students read it: TwoLayerNet.loss from the
sandwich layers (so it also computes the unused gradient for the images, which PyTorch
skips) and sgd as `w -= learning_rate * dw`.

    pip install -r benchmarks/requirements.txt      # torch (CPU) and threadpoolctl
    CIFAR10_ARCHIVE=../shared/data/cifar-10-python.tar.gz \
    CIFAR10_MD5=f6a5bb329491051f72ffb4c31a1b03bf \
        .venv/bin/python benchmarks/solver_speed.py

Options: --hidden 50 500 2000, --repeats 5, --threads N (default: numpy's BLAS threads),
--reg, --num-train N (a shorter epoch), --synthetic (random images of CIFAR-10's shape: no download, same timings).
This is a script that prints numbers, not a test: wall times on a shared machine are
noisy, so it prints the load average beside them.
"""
import argparse
import os
import platform
import statistics
import time

import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--hidden", type=int, nargs="+", default=[50, 500, 2000])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--reg", type=float, default=0.0)
    p.add_argument("--threads", type=int, default=None,
                   help="threads for both libraries (default: numpy's BLAS thread count)")
    p.add_argument("--synthetic", action="store_true",
                   help="random data of CIFAR-10's shape instead of the real images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-train", type=int, default=None,
                   help="train on the first N training images only (default: all 49,000); "
                        "a shorter epoch for a busy machine, with the same two accuracy "
                        "checks, so their share of the time grows")
    return p.parse_args(argv)


def load_data(synthetic, seed):
    """float32 CIFAR-10 as get_CIFAR10_data gives it (49,000 train, 1,000 val)."""
    if synthetic:
        rng = np.random.default_rng(seed)
        make = lambda n: (rng.standard_normal((n, 3, 32, 32), dtype=np.float32) * 60,  # noqa: E731
                          rng.integers(0, 10, n))
        (X_train, y_train), (X_val, y_val) = make(49000), make(1000)
        return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}
    from answer_key.data_utils import get_CIFAR10_data
    return get_CIFAR10_data(num_test=0, dtype=np.float32)


def numpy_epoch(data, init, args, seed):
    """Seconds for one epoch of answer_key's Solver (plus its two accuracy checks)."""
    from answer_key.classifiers.fc_net import TwoLayerNet
    from answer_key.solver import Solver

    model = TwoLayerNet(hidden_dim=init["W1"].shape[1], reg=args.reg, dtype=np.float32)
    model.params = {k: v.copy() for k, v in init.items()}
    solver = Solver(model, data, update_rule="sgd",
                    optim_config={"learning_rate": args.learning_rate},
                    batch_size=args.batch_size, num_epochs=1, verbose=False, seed=seed)
    start = time.perf_counter()
    solver.train()
    seconds = time.perf_counter() - start
    assert all(p.dtype == np.float32 for p in model.params.values()), "upcast to float64"
    return seconds, solver.val_acc_history[-1]


def torch_epoch(data, init, args, seed):
    """Seconds for the same epoch written the usual PyTorch way (nn.Linear, autograd,
    torch.optim.SGD), with the same minibatch sampling and accuracy checks."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    X_train, y_train = torch.from_numpy(data["X_train"]), torch.from_numpy(data["y_train"])
    X_val, y_val = torch.from_numpy(data["X_val"]), torch.from_numpy(data["y_val"])
    D, H = init["W1"].shape
    C = init["W2"].shape[1]
    model = nn.Sequential(nn.Flatten(), nn.Linear(D, H), nn.ReLU(), nn.Linear(H, C))
    with torch.no_grad():  # nn.Linear keeps its weight as (out, in): the transpose of ours
        model[1].weight.copy_(torch.from_numpy(init["W1"].T))
        model[1].bias.copy_(torch.from_numpy(init["b1"]))
        model[3].weight.copy_(torch.from_numpy(init["W2"].T))
        model[3].bias.copy_(torch.from_numpy(init["b2"]))
    weights = [model[1].weight, model[3].weight]
    optimizer = torch.optim.SGD(model.parameters(), lr=args.learning_rate)
    loss_fn = nn.CrossEntropyLoss()
    N, B = X_train.shape[0], args.batch_size

    def accuracy(X, y, num_samples=None):
        if num_samples is not None and X.shape[0] > num_samples:
            sample = torch.randint(X.shape[0], (num_samples,))
            X, y = X[sample], y[sample]
        with torch.no_grad():
            predictions = torch.cat([model(X[i:i + 100]).argmax(1)
                                     for i in range(0, X.shape[0], 100)])
        return (predictions == y).float().mean().item()

    def check():
        return accuracy(X_train, y_train, 1000), accuracy(X_val, y_val)

    start = time.perf_counter()
    check()
    loss_history = []
    for _ in range(max(N // B, 1)):
        batch = torch.randint(N, (B,))
        loss = loss_fn(model(X_train[batch]), y_train[batch])
        if args.reg:
            loss = loss + 0.5 * args.reg * sum((w * w).sum() for w in weights)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_history.append(loss.item())
    _, val_acc = check()
    return time.perf_counter() - start, val_acc


def set_threads(n):
    """Use n threads in numpy's BLAS and in PyTorch; return a description of both."""
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    if n is None:
        n = blas[0]["num_threads"] if blas else 1
    threadpool_limits(n, user_api="blas")
    torch.set_num_threads(n)
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    numpy_blas = ", ".join(f"{i['internal_api']} {i['version']} ({i.get('architecture', '?')}"
                           f" kernels, {i['num_threads']} threads)" for i in blas)
    return n, numpy_blas


def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores"


def load_average():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "n/a"


def main(argv=None):
    args = parse_args(argv)
    import torch

    threads, numpy_blas = set_threads(args.threads)
    print(f"machine: {machine_description()}; load average before: {load_average()}")
    print(f"numpy {np.__version__}, BLAS: {numpy_blas}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS"):
        if var in os.environ:
            print(f"{var}={os.environ[var]}")
    data = load_data(args.synthetic, args.seed)
    if args.num_train is not None:
        data["X_train"] = data["X_train"][:args.num_train]
        data["y_train"] = data["y_train"][:args.num_train]
    n_train = data["X_train"].shape[0]
    print(f"data: {n_train} training images {data['X_train'].dtype}, batch {args.batch_size},"
          f" {n_train // args.batch_size} iterations per epoch, SGD lr {args.learning_rate},"
          f" reg {args.reg}, {args.repeats} repetitions\n")

    rows = []
    for H in args.hidden:
        rng = np.random.default_rng(args.seed)
        D = int(np.prod(data["X_train"].shape[1:]))
        init = {"W1": (1e-3 * rng.standard_normal((D, H))).astype(np.float32),
                "b1": np.zeros(H, np.float32),
                "W2": (1e-3 * rng.standard_normal((H, 10))).astype(np.float32),
                "b2": np.zeros(10, np.float32)}
        times = {"numpy": [], "torch": []}
        for r in range(args.repeats):
            # Alternate the order so that a change in machine load hits both sides alike.
            order = ("numpy", "torch") if r % 2 == 0 else ("torch", "numpy")
            for name in order:
                run = numpy_epoch if name == "numpy" else torch_epoch
                seconds, _ = run(data, init, args, seed=args.seed + r)
                times[name].append(seconds)
        med_np, med_pt = statistics.median(times["numpy"]), statistics.median(times["torch"])
        rows.append((H, med_np, med_pt, med_np / med_pt,
                     min(times["numpy"]), min(times["torch"])))
        print(f"hidden {H}: numpy {' '.join('%.2f' % t for t in times['numpy'])} s; "
              f"torch {' '.join('%.2f' % t for t in times['torch'])} s", flush=True)

    print(f"\nmedian epoch time, float32, batch {args.batch_size}, SGD, {threads} threads "
          f"(load average after: {load_average()})\n")
    print("| hidden | numpy (s) | PyTorch (s) | numpy / PyTorch | best numpy | best PyTorch |")
    print("|-------:|----------:|------------:|----------------:|-----------:|-------------:|")
    for H, med_np, med_pt, ratio, best_np, best_pt in rows:
        print(f"| {H} | {med_np:.2f} | {med_pt:.2f} | {ratio:.2f}x | {best_np:.2f} |"
              f" {best_pt:.2f} |")


if __name__ == "__main__":
    main()
