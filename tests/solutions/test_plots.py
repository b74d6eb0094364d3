import matplotlib.pyplot as plt
import numpy as np

from plots import plot_loss_curve, plot_search, plot_weights


def teardown_function():
    plt.close("all")


def test_loss_curve_has_data_and_labels():
    ax = plot_loss_curve([3.0, 2.0, 1.5])
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_ydata(), [3.0, 2.0, 1.5])
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_loss_curve_draws_on_given_axes():
    fig, ax = plt.subplots()
    assert plot_loss_curve([1.0], ax=ax) is ax


def test_weights_drop_bias_and_reshape():
    W = np.arange(10 * 65, dtype=float).reshape(10, 65)
    fig = plot_weights(W, class_names=list("abcdefghij"))
    axes = fig.axes
    assert len(axes) == 10
    img = axes[3].get_images()[0].get_array()
    np.testing.assert_array_equal(img, W[3, :64].reshape(8, 8))
    assert axes[3].get_title() == "d"


def test_search_heat_map_places_values():
    results = {(0.1, 1e-3): (0.9, 0.8), (0.1, 1e-2): (0.9, 0.85),
               (1.0, 1e-3): (0.9, 0.7), (1.0, 1e-2): (0.95, 0.95)}
    fig = plot_search(results)
    ax = fig.axes[0]
    grid = ax.get_images()[0].get_array()
    # rows = learning rates (ascending), columns = reg (ascending), val accuracy
    np.testing.assert_allclose(grid, [[0.8, 0.85], [0.7, 0.95]])
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
