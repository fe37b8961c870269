"""The solutions of the notebooks' whole-cell exercises: training (chapter 5) and tuning (6).

The course build inlines the BODY of each function below as a notebook cell (directive
`# @solution-body answer_key.walkthrough.<name>`), so the bodies use the notebook's global
names. The parameters name those globals, which documents what each cell reads and lets a
script call the function directly; what a cell leaves behind (such as `solver` or
`best_model`) is only a local variable here.
"""
import numpy as np


def train_baseline(data, TwoLayerNet, Solver, sgd):
    """Train a TwoLayerNet with 50 hidden units on `data` with your `sgd`:
    learning rate 1e-3, lr_decay 0.95, 10 epochs, minibatches of 100, float32 parameters.
    Keep the network in `model` and the Solver in `solver`.
    """
    np.random.seed(0)  # the same initial weights on every run
    model = TwoLayerNet(input_dim=3 * 32 * 32, hidden_dim=50, num_classes=10,
                        dtype=np.float32)
    solver = Solver(model, data, update_rule=sgd, optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, num_epochs=10, batch_size=100, print_every=100, seed=0)
    solver.train()
    return model, solver


def tune(data, TwoLayerNet, Solver, sgd):
    """Train a few networks with different hyperparameters (hidden size, learning rate,
    regularisation strength, epochs) and keep the one with the best validation accuracy
    in `best_model`. Print each setting with its validation accuracy.
    """
    # Guided by chapter 5's curves: training and validation accuracy stayed close (room
    # for more hidden units), bigger nets want more regularisation, and the loss was still
    # falling at the end (room for more epochs). A quick 10-epoch run first; the wide,
    # long run takes a few minutes. (Doubling the learning rate did worse in our search.)
    settings = [
        {"hidden_dim": 200, "learning_rate": 1e-3, "reg": 0.5, "num_epochs": 10},
        {"hidden_dim": 500, "learning_rate": 1e-3, "reg": 0.25, "num_epochs": 20},
    ]
    best_val = -1.0
    for s in settings:
        np.random.seed(0)
        model = TwoLayerNet(hidden_dim=s["hidden_dim"], reg=s["reg"], dtype=np.float32)
        solver = Solver(model, data, update_rule=sgd,
                        optim_config={"learning_rate": s["learning_rate"]}, lr_decay=0.95,
                        num_epochs=s["num_epochs"], batch_size=100, verbose=False, seed=0)
        solver.train()
        print(f"{s}: best validation accuracy {solver.best_val_acc:.3f}")
        if solver.best_val_acc > best_val:
            best_val, best_model = solver.best_val_acc, model
    print(f"best validation accuracy of the sweep: {best_val:.3f}")
    return best_model
