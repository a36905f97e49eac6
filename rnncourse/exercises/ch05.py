"""Checkers of chapter 5: clipping by global norm, and the Jacobian product of a tanh RNN.

- ``ch05.clip_by_global_norm``: ``clip_by_global_norm(grads, max_norm) -> norm``, which scales the
  arrays of ``grads`` *in place* (so it is the one checker that calls the student bare, with
  :func:`~rnncourse.exercises.feedback.call_student`), compared with
  :func:`rnncourse.numpy.clip.clip_grad_norm`;
- ``ch05.jacobian_product``: ``jacobian_product(hs, W_hh, s) -> dh_T/dh_s`` (B, H, H), compared with
  :func:`rnncourse.numpy.jacobian.jacobian_product` (the chapter names the student's function
  ``jacobian_product_ex``, so as not to shadow the package's).
"""

from __future__ import annotations

import numpy as np

from rnncourse.exercises.feedback import (call_student, call_unchanged, case_sizes, expect_array, expect_close,
                                          expect_keys, expect_number, in_case, name_mistake, random_array)
from rnncourse.exercises.registry import ExerciseFailure, exercise
from rnncourse.numpy.clip import clip_grad_norm
from rnncourse.numpy.jacobian import jacobian_product, step_jacobians

__all__ = ["check_clip_by_global_norm", "check_jacobian_product"]


# ----------------------------------------------------------------------------- clipping

def _random_grads(rng, D, H, scale):
    shapes = {"W_xh": (H, D), "W_hh": (H, H), "b_h": (H,), "W_hy": (2, H), "b_y": (2,)}
    return {name: random_array(rng, shape, scale) for name, shape in shapes.items()}


def _copy(grads):
    return {name: g.copy() for name, g in grads.items()}


def _per_array(grads, max_norm):
    """The common mistake: clip every array to max_norm on its own."""
    out = _copy(grads)
    for g in out.values():
        g *= min(1.0, max_norm / (np.linalg.norm(g) + 1e-6))
    return out


def _run_clip(fn, grads, max_norm, case=None):
    """Call the student's function on a copy; return (returned total norm, arrays after the call).

    The arrays must be the very ones handed over, scaled in place: ``grads[k] = grads[k] * c``
    leaves the caller's arrays (an optimiser's, a model's) unclipped. ``case`` names a hand case
    in the messages; a random case is named by :func:`~rnncourse.exercises.feedback.in_case` around the call.
    """
    within, prefix = (f" ({case})", f"{case}: ") if case else ("", "")
    mine = _copy(grads)
    given = dict(mine)
    total = call_student(fn, mine, max_norm, what=f"clip_by_global_norm{within}")
    if isinstance(total, dict):
        raise ExerciseFailure(f"clip_by_global_norm returned a dict{within}; like torch.nn.utils.clip_grad_norm_, "
                              f"it should modify the arrays in place and return the total norm before clipping")
    total = expect_number(total, f"the total norm that clip_by_global_norm returned{within}")
    expect_keys(mine, grads, f"grads after clip_by_global_norm{within}")
    for name in grads:
        if mine[name] is not given[name]:
            raise ExerciseFailure(f"{prefix}grads[{name!r}] was replaced by a new array, but the arrays should be "
                                  f"scaled in place (g *= c), so that whoever holds them sees the clipped values")
    return total, mine


def _flat(arrays, names):
    """The arrays ``arrays[name]`` one after the other, as one vector, to compare all of them at once."""
    return np.concatenate([arrays[name].ravel() for name in names])


def _compare_clip(fn, grads, max_norm, case=None):
    prefix = f"{case}: " if case else ""
    reference = _copy(grads)
    expected_total = clip_grad_norm(reference, max_norm)
    total, mine = _run_clip(fn, grads, max_norm, case)
    if not np.isclose(total, expected_total, rtol=1e-6):
        after = float(np.sqrt(sum(np.sum(g * g) for g in reference.values())))
        hint = " (that is the norm after clipping; return the norm before)" if np.isclose(total, after) else ""
        raise ExerciseFailure(f"{prefix}the returned total norm is {total:.6g}, expected {expected_total:.6g}{hint}")
    unchanged = all(np.array_equal(mine[n], grads[n]) for n in grads)
    if unchanged and expected_total > max_norm:
        raise ExerciseFailure(f"{prefix}the gradients were not changed although their norm {expected_total:.4g} "
                              f"exceeds max_norm = {max_norm:g}; scale the arrays in place (g *= c)")
    names = list(grads)
    mistakes = [(_flat(_per_array(grads, max_norm), names),
                 "each array was clipped on its own; clip all of them together, with one factor computed from the "
                 "norm of all gradients as one long vector")]
    name_mistake(_flat(mine, names), _flat(reference, names), mistakes, case or "", rtol=1e-5, atol=1e-8)
    # The factor max_norm / (norm + 1e-6) differs from max_norm / norm by about 1e-6 / norm: accept both.
    rtol = 1e-6 + 2e-6 / max(expected_total, 1e-12)
    for name in grads:
        expect_close(mine[name], reference[name], f"{prefix}grads[{name!r}] after clipping", rtol=rtol, atol=1e-12)


@exercise("ch05.clip_by_global_norm", points=2,
          subjects=("rnncourse.numpy.clip.clip_grad_norm", "rnncourse.numpy.clip.grad_norm"))
def check_clip_by_global_norm(fn):
    """Write clip_by_global_norm(grads, max_norm): scale all gradients in place to a joint norm <= max_norm.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``clip_by_global_norm(grads, max_norm) -> norm``; it should scale
        the arrays of ``grads`` in place.
    """
    # By hand: norms and factors that can be checked on paper.
    _compare_clip(fn, {"a": np.array([3.0]), "b": np.array([4.0])}, 1.0,
                  "hand case {a: [3], b: [4]}, max_norm 1 (norm 5, factor 1/5)")
    _compare_clip(fn, {"a": np.array([0.3]), "b": np.array([0.4])}, 1.0,
                  "a gradient already inside the ball (norm 0.5 < max_norm 1) must stay unchanged")
    # Comparing the squared norm with max_norm goes wrong where norm <= max_norm < norm**2 and, for
    # max_norm < 1, where norm**2 <= max_norm < norm: one case of each.
    _compare_clip(fn, {"a": np.array([1.0, 2.0]), "b": np.array([2.0])}, 5.0,
                  "norm 3 <= max_norm 5 (though norm**2 = 9 > 5): the gradients must stay unchanged")
    _compare_clip(fn, {"a": np.array([0.306]), "b": np.array([0.408])}, 0.5,
                  "hand case {a: [0.306], b: [0.408]}, max_norm 0.5 (norm 0.51 just outside, factor 0.5 / 0.51)")
    _compare_clip(fn, {"W": np.array([[30.0, 40.0]])}, 5.0, "one array of shape (1, 2)")
    rng = np.random.default_rng(5)
    # Random sizes, each with a scale and max_norm of its own: far outside, inside, just outside, far outside.
    cases = [dict(sizes, scale=scale, max_norm=max_norm) for sizes, (scale, max_norm)
             in zip(case_sizes(seed=5, letters="DH", n_random=4), ((10.0, 1.0), (0.01, 1.0), (3.0, 2.5), (100.0, 0.5)))]
    for sizes in cases:
        with in_case(sizes):
            _compare_clip(fn, _random_grads(rng, sizes["D"], sizes["H"], sizes["scale"]), sizes["max_norm"])


# ----------------------------------------------------------------------------- Jacobian product

def _mistakes(hs, W_hh, s):
    """Products with the usual mistakes, to name the one the student made."""
    T, B, n_h = hs.shape
    J = step_jacobians(hs, W_hh)
    eye = np.broadcast_to(np.eye(n_h), (B, n_h, n_h))
    reversed_order, no_derivative, shifted = eye.copy(), eye.copy(), eye.copy()
    hs_prev = np.concatenate([np.zeros((1, B, n_h)), hs[:-1]])
    for t in range(s + 1, T + 1):          # J[t - 1] is J_t; hs_prev[t - 1] is h_{t-1}
        reversed_order = reversed_order @ J[t - 1]
        no_derivative = W_hh @ no_derivative
        shifted = ((1 - hs_prev[t - 1] ** 2)[:, :, None] * W_hh) @ shifted
    return [
        (reversed_order,
         "the factors are multiplied in the wrong order: dh_T/dh_s = J_T ... J_{s+1}, the latest on the left"),
        (no_derivative, "the derivative of tanh is missing: each factor is diag(1 - h_t**2) W_hh"),
        (shifted, "each factor should use the state it produces, diag(1 - h_t**2) W_hh, not h_{t-1}"),
    ]


def _compare_jacobian(fn, hs, W_hh, s, case=None):
    """Compare with the reference and name the usual mistake; ``case`` names a hand case in the messages."""
    within, prefix = (f" ({case})", f"{case}: ") if case else ("", "")
    B, n_h = hs.shape[1], hs.shape[2]
    got = call_unchanged(fn, (hs, W_hh, s), ("hs", "W_hh", "s"), f"jacobian_product{within}")
    got = expect_array(got, (B, n_h, n_h), f"{prefix}dh_T/dh_s")
    expected = jacobian_product(step_jacobians(hs, W_hh), s)
    name_mistake(got, expected, _mistakes(hs, W_hh, s), case or "", rtol=1e-6, atol=1e-10)
    expect_close(got, expected, f"{prefix}dh_T/dh_s", rtol=1e-6, atol=1e-10)


def _trajectory(rng, T, B, n_h):
    hs = np.tanh(random_array(rng, (T, B, n_h)))
    W_hh = random_array(rng, (n_h, n_h), 1 / np.sqrt(n_h))
    return hs, W_hh


@exercise("ch05.jacobian_product", points=2, subjects=("rnncourse.numpy.jacobian.jacobian_product",))
def check_jacobian_product(fn):
    """Write jacobian_product(hs, W_hh, s): dh_T/dh_s = prod of diag(1 - h_t**2) W_hh for a tanh RNN.

    Parameters
    ----------
    fn : callable
        The student's function, called as ``jacobian_product(hs, W_hh, s) -> dh_T/dh_s``.
    """
    # By hand: h_t = 0 leaves W_hh**(T - s); s = T and s = T - 1 are the two shortest products.
    W = np.array([[0.5, 0.0], [0.0, 2.0]])
    _compare_jacobian(fn, np.zeros((3, 1, 2)), W, 0,
                      "hand case h_t = 0, W_hh = diag(0.5, 2), T = 3, s = 0 (answer diag(0.125, 8))")
    rng = np.random.default_rng(7)
    hs, W_hh = _trajectory(rng, 5, 2, 3)
    _compare_jacobian(fn, hs, W_hh, 5, "s = T (no step in between: the identity)")
    _compare_jacobian(fn, hs, W_hh, 4, "s = T - 1 (one factor)")
    # Edge and random sizes, each with an s that leaves at least two factors where T allows, plus chosen
    # ones: T = B = 1 and a long product.
    cases = [dict(sizes, s=int(rng.integers(0, max(1, sizes["T"] - 1)))) for sizes in case_sizes(seed=7, letters="TBH")]
    cases += [
        {"T": 1, "B": 1, "H": 4, "s": 0},
        {"T": 10, "B": 1, "H": 3, "s": 2},
    ]
    for sizes in cases:
        with in_case(sizes):
            hs, W_hh = _trajectory(rng, sizes["T"], sizes["B"], sizes["H"])
            _compare_jacobian(fn, hs, W_hh, sizes["s"])
