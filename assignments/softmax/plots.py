"""Plots for the workbook: loss curves, learned weights, hyperparameter search."""
import matplotlib.pyplot as plt
import numpy as np


def plot_loss_curve(loss_history, ax=None, title="Training loss"):
    """Line plot of the minibatch loss against the iteration number."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(len(loss_history)), loss_history, lw=1)
    ax.set_title(title)
    ax.set_xlabel("iteration")
    ax.set_ylabel("minibatch loss")
    ax.grid(alpha=0.3)
    return ax


def plot_weights(W, image_shape=(8, 8), class_names=None):
    """Draw each class's weights as an image.

    ``W`` is ``(C, D)`` with the bias in the last column, which is dropped;
    the remaining ``prod(image_shape)`` weights of each row are reshaped into
    ``image_shape`` (e.g. 8x8) and shown in one subplot per class.
    Red = positive weight (pixel ink raises the class score), blue = negative.
    """
    W = np.asarray(W)
    C = W.shape[0]
    images = W[:, :-1].reshape((C,) + tuple(image_shape))
    if class_names is None:
        class_names = [str(c) for c in range(C)]
    vmax = np.abs(images).max()
    fig, axes = plt.subplots(1, C, figsize=(1.3 * C, 1.8))
    axes = np.atleast_1d(axes)
    for c, ax in enumerate(axes):
        ax.imshow(images[c], cmap="bwr", vmin=-vmax, vmax=vmax)
        ax.set_title(class_names[c])
        ax.axis("off")
    fig.suptitle("Learned weights per class (bias dropped)")
    return fig


def plot_search(results):
    """Heat map of validation accuracy over learning rate x regularization.

    ``results`` maps ``(learning_rate, reg)`` to either a validation accuracy
    or a tuple ``(train_acc, val_acc)``.
    """
    lrs = sorted({lr for lr, _ in results})
    regs = sorted({reg for _, reg in results})
    grid = np.full((len(lrs), len(regs)), np.nan)
    for (lr, reg), value in results.items():
        val = value[-1] if isinstance(value, (tuple, list)) else value
        grid[lrs.index(lr), regs.index(reg)] = val
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    im = ax.imshow(grid, cmap="viridis", origin="lower")
    ax.set_xticks(range(len(regs)), [f"{r:g}" for r in regs])
    ax.set_yticks(range(len(lrs)), [f"{lr:g}" for lr in lrs])
    ax.set_xlabel("regularization strength")
    ax.set_ylabel("learning rate")
    ax.set_title("Validation accuracy")
    # White text on the dark (low) end of the colour map, black on the bright end.
    middle = (np.nanmin(grid) + np.nanmax(grid)) / 2
    for i in range(len(lrs)):
        for j in range(len(regs)):
            if not np.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center",
                        color="white" if grid[i, j] < middle else "black")
    fig.colorbar(im, ax=ax, label="accuracy")
    return fig
