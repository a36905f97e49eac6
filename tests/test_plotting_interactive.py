"""The interactive figures' networks and NumPy twins (rnncourse.plotting.interactive).

The browser tests (tests/test_browser.py) compare the pages' JavaScript with these functions; here
the functions themselves are checked against independent references: torch's autograd Jacobian
and torch.nn.RNN with the same weights.
"""

import json

import numpy as np
import pytest
import torch

from rnncourse.plotting.interactive import (DATA_SCRIPT, figure_data, forward_network, forward_steps,
                                            gradient_network, gradient_norms, write_figure_data,
                                            write_static_figures)


def torch_jacobian_norm(net, rho, scale, lag):
    """||dh_T/dh_{T-lag}||_2 by autograd: run to h_{T-lag}, then differentiate the rest of the run."""
    W_xh, b_h = torch.tensor(net["W_xh"]), torch.tensor(net["b_h"])
    W_hh = rho * torch.tensor(net["W_hh"])
    x = scale * torch.tensor(net["x"][:, 0])
    T = len(x)

    def step(h, t):
        return torch.tanh(W_xh @ x[t] + W_hh @ h + b_h)

    def rest(h):                               # h_{T-lag} -> h_T
        for t in range(T - lag, T):
            h = step(h, t)
        return h

    h = torch.zeros(len(b_h), dtype=torch.float64)
    for t in range(T - lag):                   # h_0 -> h_{T-lag}
        h = step(h, t)
    J = torch.autograd.functional.jacobian(rest, h)
    return torch.linalg.matrix_norm(J, ord=2).item()


@pytest.mark.parametrize("rho, scale", [(1.0, 1.0), (0.8, 3.0), (1.3, 0.5)])
def test_gradient_norms_equal_autograd_jacobians(rho, scale):
    net = gradient_network()
    norms = gradient_norms(net, rho, scale)
    assert norms.shape == (len(net["x"]) + 1,)
    assert norms[0] == pytest.approx(1.0)
    for lag in (1, 7, 40):
        assert norms[lag] == pytest.approx(torch_jacobian_norm(net, rho, scale, lag), rel=1e-9)


def test_gradient_network_has_spectral_radius_one_and_saturation_shrinks_the_norm():
    net = gradient_network()
    assert np.max(np.abs(np.linalg.eigvals(net["W_hh"]))) == pytest.approx(1.0)
    # Larger inputs saturate tanh: smaller derivatives, a smaller product at long lags.
    assert gradient_norms(net, 1.0, 4.0)[50] < gradient_norms(net, 1.0, 1.0)[50] < gradient_norms(net, 1.0, 0.0)[50]


def test_gradient_norms_reject_bad_slider_values():
    net = gradient_network()
    with pytest.raises(ValueError, match="spectral_radius"):
        gradient_norms(net, -1.0, 1.0)
    with pytest.raises(ValueError, match="input_scale should be a finite number >= 0"):
        gradient_norms(net, 1.0, -0.5)
    with pytest.raises(TypeError, match="input_scale should be a number, but is str 'a'"):
        gradient_norms(net, 1.0, "a")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"T": 0}, ValueError, "T should be an integer >= 1, but is 0"),
    ({"T": 2.5}, TypeError, "T should be an integer, but is float 2.5"),
])
def test_gradient_network_rejects_bad_sizes(kwargs, error, match):
    with pytest.raises(error, match=match):
        gradient_network(**kwargs)


def test_forward_steps_equal_torch_rnn_with_the_same_weights():
    net = forward_network()
    for tokens in net["sequences"].values():
        steps = forward_steps(net, tokens)
        rnn = torch.nn.RNN(net["V"], 2, dtype=torch.float64)
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(torch.tensor(net["W_xh"]))
            rnn.weight_hh_l0.copy_(torch.tensor(net["W_hh"]))
            rnn.bias_ih_l0.copy_(torch.tensor(net["b_h"]))
            rnn.bias_hh_l0.zero_()
        x = torch.nn.functional.one_hot(torch.tensor(tokens), net["V"]).double()[:, None]
        hs, _ = rnn(x, torch.tensor(net["h0"])[None])
        zs = hs[:, 0] @ torch.tensor(net["W_hy"]).T + torch.tensor(net["b_y"])      # scores z_t
        assert set(steps) == {"hs", "zs", "probs"}
        np.testing.assert_allclose(steps["hs"], hs[:, 0].detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(steps["zs"], zs.detach().numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(steps["probs"], torch.softmax(zs, 1).detach().numpy(), rtol=1e-12)


def test_forward_network_answers_the_order_question():
    # What the static picture's alt text says: "yes" only once the 2 has come after the 1.
    net = forward_network()
    first, second = net["sequences"].values()
    p_yes = forward_steps(net, first)["probs"][:, 1]
    assert list(p_yes > 0.5) == [False, False, False, False, True, True]
    assert not (forward_steps(net, second)["probs"][:, 1] > 0.5).any()


def test_data_script_carries_the_figures_json(tmp_path):
    path = write_figure_data(tmp_path)
    assert path.name == DATA_SCRIPT
    text = path.read_text()
    prefix = "window.RNNCOURSE_FIGURE_DATA = "
    payload = text[text.index(prefix) + len(prefix):].rstrip().rstrip(";")
    data = json.loads(payload)
    assert data == json.loads(json.dumps(figure_data()))
    np.testing.assert_array_equal(np.array(data["gradients"]["W_hh"]), gradient_network()["W_hh"])


def test_static_pictures_are_written(tmp_path):
    paths = write_static_figures(tmp_path)
    assert [p.name for p in paths] == ["forward-steps.png", "gradients-through-time.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # What the static picture's alt text says about the start values: the norm falls more than tenfold.
    norms = gradient_norms(gradient_network(), 1.0, 1.0)
    assert norms[-1] < norms[0] / 10



# --- Defects found by the audit: each test failed before its fix. ---

@pytest.mark.parametrize("tokens, error, match", [
    ([1.7, 2.2], TypeError, r"^tokens should hold integer class indices, but has dtype float64"),
    ([1, 5], ValueError, r"^tokens should hold indices in \[0, 5\), but holds values from 1 to 5"),
    ([], ValueError, r"^tokens should hold at least one token id, but is empty"),
    ([[1, 2]], ValueError, r"^tokens should have shape \(T,\), but has shape \(1, 2\)"),
])
def test_forward_steps_want_integer_tokens(tokens, error, match):
    with pytest.raises(error, match=match):
        forward_steps(forward_network(), tokens)


def test_lag_slider_starts_within_its_range():
    assert gradient_network(T=20)["controls"]["lag"] == {"min": 0, "max": 20, "step": 1, "value": 20}
    assert gradient_network()["controls"]["lag"]["value"] == 50


def test_forward_steps_picture_writes_the_network_s_own_h0():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnncourse.plotting.interactive import plot_forward_steps

    net = forward_network()
    texts = [t.get_text() for t in plot_forward_steps(net, [3, 1]).axes[0].texts]
    assert "$h_0$\n-1.00\n-1.00" in texts                     # the start values, as before
    net["h0"] = np.array([[0.5, -0.25]])
    texts = [t.get_text() for t in plot_forward_steps(net, [3, 1]).axes[0].texts]
    assert "$h_0$\n+0.50\n-0.25" in texts
    plt.close("all")


def test_forward_steps_figure_shows_p_yes_of_each_step_as_computed():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnncourse.plotting.interactive import plot_forward_steps

    net, tokens = forward_network(), [3, 1]
    try:
        ax = plot_forward_steps(net, tokens).axes[0]
        shown = [t.get_text() for t in ax.texts if "P(yes)" in t.get_text()]
        probs = forward_steps(net, tokens)["probs"][:, 1]
        assert shown == [f"$y_{{{t}}}$: P(yes)\n{p:.2f}" for t, p in enumerate(probs, start=1)]
        assert len(shown) == 2
    finally:
        plt.close("all")
