"""The Solver: trains a classification model with minibatch gradient descent.

A Solver runs the training loop so a model only has to compute its loss. The model
must have:
- model.params: dict, parameter name -> numpy array
- model.loss(X, y=None):
    X: minibatch of inputs, shape (N, d_1, ..., d_k)
    y: labels, shape (N,), y[i] in 0..C-1
    With y=None it returns scores, shape (N, C), scores[i, c] for class c of X[i].
    With labels it returns (loss, grads): a scalar and a dict with the keys of
    model.params, grads[p] the gradient of the loss with respect to params[p].

Example:

    solver = Solver(model, data, update_rule=sgd,
                    optim_config={"learning_rate": 1e-3}, lr_decay=0.95,
                    num_epochs=10, batch_size=100, print_every=100)
    solver.train()
    # model.params now hold the parameters that scored best on the validation set;
    # solver.loss_history, .train_acc_history, .val_acc_history record the run.

`data` is a dict with X_train (N_train, ...), y_train (N_train,), X_val (N_val, ...)
and y_val (N_val,). Nothing is copied or converted: float32 data trains in float32.
"""
import ctypes
import difflib
import os
import pickle
import platform

import numpy as np
from tqdm.auto import tqdm

_DEFAULTS = {
    "update_rule": "sgd", "optim_config": None, "lr_decay": 1.0, "batch_size": 100,
    "num_epochs": 10, "num_train_samples": 1000, "num_val_samples": None,
    "checkpoint_name": None, "print_every": 10, "verbose": True, "rng": None, "seed": None,
}


class Solver:
    """Trains `model` on `data` (see the module docstring for both).

    Keyword arguments:
    - update_rule: the update function itself, rule(w, dw, config) -> (next_w, config),
      e.g. update_rule=sgd. A name is looked up in the class attribute `update_rules`.
    - optim_config: dict of hyperparameters for the rule, e.g. {"learning_rate": 1e-3};
      every parameter gets its own copy (stateful rules keep running state in it)
    - lr_decay: the learning rate is multiplied by this after every epoch
    - batch_size: examples per minibatch
    - num_epochs: passes over the training data
    - num_train_samples: training examples used to measure training accuracy
      (None: all of them)
    - num_val_samples: validation examples used for validation accuracy (None: all)
    - checkpoint_name: if given, the solver is pickled to
      "<checkpoint_name>_epoch_<epoch>.pkl" at every accuracy check
    - print_every: print the loss every this many iterations (when verbose)
    - verbose: print progress lines and show a progress bar
    - rng: np.random.Generator (or RandomState) that picks minibatches and samples
    - seed: integer; shorthand for rng=np.random.default_rng(seed)
      Without rng or seed, np.random's global state is used, so np.random.seed(...)
      beforehand makes a run repeatable.

    After train(): loss_history (one entry per iteration), train_acc_history and
    val_acc_history (one per check: start, each epoch end, last iteration),
    best_val_acc, best_params; model.params are set to best_params.
    """

    # Update rules reachable by name. fcnet has none: students pass their own function.
    update_rules = {}

    def __init__(self, model, data, **kwargs):
        unknown = sorted(set(kwargs) - set(_DEFAULTS))
        if unknown:
            raise TypeError(_unknown_keywords_message(unknown))
        options = {**_DEFAULTS, **kwargs}

        self.model = model
        missing = [k for k in ("X_train", "y_train", "X_val", "y_val") if k not in data]
        if missing:
            raise KeyError(f"data has no {', '.join(missing)}: it needs X_train, y_train, "
                           "X_val and y_val, as get_CIFAR10_data() returns them.")
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]

        self.update_rule_name, self.update_rule = self._resolve_update_rule(
            options["update_rule"])
        self.optim_config = dict(options["optim_config"] or {})
        self.lr_decay = options["lr_decay"]
        self.batch_size = options["batch_size"]
        self.num_epochs = options["num_epochs"]
        self.num_train_samples = options["num_train_samples"]
        self.num_val_samples = options["num_val_samples"]
        self.checkpoint_name = options["checkpoint_name"]
        self.print_every = options["print_every"]
        self.verbose = options["verbose"]

        if options["rng"] is not None and options["seed"] is not None:
            raise TypeError("Solver() takes rng or seed, not both.")
        if options["rng"] is not None:
            self.rng = options["rng"]
        elif options["seed"] is not None:
            self.rng = np.random.default_rng(options["seed"])
        else:
            self.rng = np.random  # the global state, as np.random.seed(...) sets it

        self._reset()

    def _resolve_update_rule(self, rule):
        """Return (name, function) for an update rule given by function or by name."""
        if callable(rule):
            return getattr(rule, "__name__", repr(rule)), rule
        if isinstance(rule, str):
            if rule in self.update_rules:
                return rule, self.update_rules[rule]
            known = f" (known names: {', '.join(sorted(self.update_rules))})" \
                if self.update_rules else ""
            raise ValueError(f"Unknown update_rule {rule!r}{known}. Update rules are "
                             "functions you write: pass your function itself: "
                             "update_rule=sgd")
        raise TypeError(f"update_rule must be a function such as sgd, not {rule!r}.")

    def _reset(self):
        """Set up the bookkeeping for a fresh run. Called by __init__; not for you."""
        self.epoch = 0
        self.best_val_acc = 0
        self.best_params = None
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        # Each parameter gets its own config dict: a rule may store state in it.
        self.optim_configs = {p: dict(self.optim_config) for p in self.model.params}

    def _step(self):
        """One gradient update on a random minibatch of batch_size training examples
        (drawn with replacement)."""
        batch = self.rng.choice(self.X_train.shape[0], self.batch_size)
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        self.loss_history.append(float(loss))

        params = self.model.params
        for p, w in params.items():
            result = self.update_rule(w, grads[p], self.optim_configs[p])
            if type(result) is not tuple or len(result) != 2:
                raise TypeError(f"update rule {self.update_rule_name} returned "
                                f"{type(result).__name__}; it must return (next_w, config).")
            params[p], self.optim_configs[p] = result

    def _decay_learning_rate(self):
        if self.lr_decay == 1.0:
            return
        for p, config in self.optim_configs.items():
            if "learning_rate" not in config:
                raise KeyError(f"lr_decay needs a 'learning_rate' in the config of {p!r}; "
                               "put it in optim_config or have your update rule set it.")
            config["learning_rate"] *= self.lr_decay

    def _save_checkpoint(self):
        """Pickle the model and the run so far to <checkpoint_name>_epoch_<epoch>.pkl."""
        if self.checkpoint_name is None:
            return
        checkpoint = {
            "model": self.model,
            "update_rule": self.update_rule_name,  # a name: lambdas cannot be pickled
            "lr_decay": self.lr_decay,
            "optim_config": self.optim_config,
            "batch_size": self.batch_size,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "epoch": self.epoch,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        }
        filename = "%s_epoch_%d.pkl" % (self.checkpoint_name, self.epoch)
        if self.verbose:
            tqdm.write('Saving checkpoint to "%s"' % filename)
        tmp = filename + ".part"  # never leave a half-written checkpoint behind
        try:
            with open(tmp, "wb") as f:
                pickle.dump(checkpoint, f)
            os.replace(tmp, filename)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of examples the model classifies correctly.

        Inputs:
        - X: inputs, shape (N, d_1, ..., d_k)
        - y: labels, shape (N,)
        - num_samples: if given and smaller than N, use a random sample of this many
        - batch_size: examples per forward pass (bounds the memory used)

        Returns a float in [0, 1].
        """
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            sample = self.rng.choice(N, num_samples)
            X, y, N = X[sample], y[sample], num_samples
        predictions = [np.argmax(self.model.loss(X[start:start + batch_size]), axis=1)
                       for start in range(0, N, batch_size)]
        return float(np.mean(np.concatenate(predictions) == y))

    def train(self):
        """Run num_epochs epochs of updates, checking accuracy after each epoch."""
        _keep_freed_memory()
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch

        with tqdm(total=num_iterations, desc="Training", disable=not self.verbose) as bar:
            for t in range(num_iterations):
                self._step()
                if self.verbose and t % self.print_every == 0:
                    tqdm.write("(Iteration %d / %d) loss: %f"
                               % (t + 1, num_iterations, self.loss_history[-1]))

                epoch_end = (t + 1) % iterations_per_epoch == 0
                if epoch_end:
                    self.epoch += 1
                    self._decay_learning_rate()
                if t == 0 or t == num_iterations - 1 or epoch_end:
                    self._check_and_record()
                    bar.set_postfix(loss=self.loss_history[-1],
                                    val_acc=self.val_acc_history[-1], refresh=False)
                bar.update()

        if self.best_params is not None:
            # A copy, so training on afterwards cannot change best_params.
            self.model.params = {k: v.copy() for k, v in self.best_params.items()}

    def _check_and_record(self):
        """Measure train and validation accuracy, record them, keep the best params."""
        train_acc = self.check_accuracy(self.X_train, self.y_train,
                                        num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val,
                                      num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        self._save_checkpoint()
        if self.verbose:
            tqdm.write("(Epoch %d / %d) train acc: %f; val_acc: %f"
                       % (self.epoch, self.num_epochs, train_acc, val_acc))
        if self.best_params is None or val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}


def _keep_freed_memory():
    """Let glibc keep the memory of freed arrays up to 32 MB for reuse.

    Every training step makes a few weight-sized arrays (a gradient, the update's
    temporaries) and frees them again. By default glibc hands that memory back to the
    operating system, and the next step pays a page fault for every 4 KB it takes back
    (about 1,300 faults, an eighth of the step's time, at 2,000 hidden units). This
    changes only where freed memory waits, never a result. Elsewhere (macOS, Windows, musl) it does nothing.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's <malloc.h>
    libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)   # arrays up to 32 MB come from the heap
    libc.mallopt(M_TRIM_THRESHOLD, 256 << 20)  # and up to 256 MB of it stays there


def _unknown_keywords_message(names):
    """Name the unknown keywords, with the likely intended one where there is one."""
    parts = []
    for name in names:
        if name in ("learning_rate", "lr"):
            parts.append(f"{name!r} (the learning rate goes in "
                         "optim_config={'learning_rate': ...})")
            continue
        close = difflib.get_close_matches(name, _DEFAULTS, n=1)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return f"Solver() got unexpected keyword argument(s): {', '.join(parts)}"
