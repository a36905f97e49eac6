"""Messages of rnncourse.validation's helpers called directly: the lengths of a padded batch, values to draw."""

import numpy as np
import pytest
import torch

from rnncourse.numpy import affine_forward, rnn_forward, softmax_cross_entropy
from rnncourse.numpy.bidirectional import birnn_forward
from rnncourse.validation import as_float_array, check_lengths

META = torch.device("meta")


@pytest.mark.parametrize("backend, lengths, fix", [
    ("numpy", np.array([4, 2, 3]), r"x\.transpose\(1, 0, 2\)"),
    ("torch", torch.tensor([4, 2, 3]), r"x\.transpose\(0, 1\)"),
])
def test_lengths_that_fit_the_first_axis_of_x_get_the_batch_major_hint(backend, lengths, fix):
    # x of shape (3, 4, D) read as (T, B) = (3, 4): three lengths are one per row of a batch-major x.
    with pytest.raises(ValueError, match=rf"^lengths should have shape \(B,\) = \(4,\), but has shape \(3,\); "
                                         rf"lengths has 3 entries, the size of x's first axis: if x is batch-major "
                                         rf"\(B, T, D\), make it time-major \(T, B, D\) with {fix}$"):
        check_lengths(lengths, 3, 4, backend=backend)


def test_the_batch_major_hint_names_the_source_and_its_shape():
    with pytest.raises(ValueError, match=r"; lengths has 3 entries, the size of ids's first axis: if ids is "
                                         r"batch-major \(B, T\), make it time-major \(T, B\) with ids\.T$"):
        check_lengths(torch.tensor([1, 2, 3]), 3, 5, backend="torch", source="ids", source_ndim=2)


@pytest.mark.parametrize("lengths", [np.array([1, 2]), np.array([1, 2, 3, 3, 1])])
def test_lengths_that_fit_neither_axis_of_x_get_no_guess(lengths):
    with pytest.raises(ValueError, match=rf"^lengths should have shape \(B,\) = \(4,\), but has shape "
                                         rf"\({len(lengths)},\)$"):
        check_lengths(lengths, 3, 4)


def test_lengths_on_the_meta_device_are_refused_where_their_values_are_read():
    # A meta tensor has a shape and no values: the range check was skipped, and torch failed later
    # ("Cannot copy out of meta tensor") where the lengths were moved to the CPU or to the data's device.
    with pytest.raises(TypeError, match=r"^lengths should hold values that can be read, but is on the meta device, "
                                        r"which holds none; pass the lengths on the CPU, e\.g\. torch\.tensor"):
        check_lengths(torch.tensor([2, 1], device=META), 3, 2, backend="torch")
    for used_on in ("cpu", torch.device("cpu")):
        with pytest.raises(TypeError, match=r"^lengths should hold values that can be read, but is on the meta"):
            check_lengths(torch.tensor([2, 1], device=META), 3, 2, backend="torch", device=used_on)
    for used_on in ("meta", META):         # used on meta data: no value is read, the result is meta too
        lengths = torch.tensor([2, 1], device=META)
        assert check_lengths(lengths, 3, 2, backend="torch", device=used_on) is lengths
    cpu = torch.tensor([2, 1])
    assert check_lengths(cpu, 3, 2, backend="torch", device=META) is cpu       # moved there after the check


@pytest.mark.parametrize("values", [np.array([1 + 2j, 3.0]), [1 + 2j, 3.0], np.array([1.0, 2.0], dtype=np.complex64),
                                    torch.tensor([1 + 2j, 3.0])])
def test_as_float_array_refuses_complex_numbers_rather_than_drop_their_imaginary_part(values):
    # np.asarray(values, dtype=np.float64) kept the real part alone, with a ComplexWarning at most.
    with pytest.raises(TypeError, match=r"^losses should hold real numbers, but holds complex numbers \(dtype "
                                        r"complex(64|128)\); take the part you mean, e\.g\. np\.abs\(losses\) or "
                                        r"losses\.real$"):
        as_float_array(values, "losses")



def test_as_float_array_refuses_text_inside_an_object_array():
    # np.asarray(..., dtype=np.float64) reads the text "2.5" as the number 2.5.
    with pytest.raises(TypeError, match=r"^losses should hold numbers, but holds the text '2\.5' at index 1; convert "
                                        r"it to a number first$"):
        as_float_array(np.array([1.0, "2.5"], dtype=object), "losses")


def test_last_states_names_hs_when_its_lengths_look_batch_major():
    # last_states takes hs, not x: the advice named x, which the caller never passed.
    from rnncourse.numpy.many_to_one import last_states
    with pytest.raises(ValueError, match=r"lengths has 3 entries, the size of hs's first axis: if hs is batch-major "
                                         r"\(B, T, H\), make it time-major \(T, B, H\) with hs\.transpose\(1, 0, 2\)$"):
        last_states(np.zeros((3, 2, 4)), np.array([1, 2, 3]))


def test_reverse_padded_gives_the_two_axis_advice_for_two_axis_x():
    # x of shape (T, B) is made time-major with x.T; the advice spoke of (B, T, D) and transpose(1, 0, 2).
    from rnncourse.numpy.padding import reverse_padded
    with pytest.raises(ValueError, match=r"if x is batch-major \(B, T\), make it time-major \(T, B\) with x\.T$"):
        reverse_padded(np.zeros((3, 2)), np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r"with x\.transpose\(1, 0, 2\)$"):
        reverse_padded(np.zeros((3, 2, 5, 1)), np.array([1, 2, 3]))


@pytest.mark.parametrize("step", ["abc", 1.5, True, -1])
def test_check_grads_refuses_a_step_that_is_not_a_count(step):
    from rnncourse.numpy.optim import check_grads
    p = {"a": np.zeros(2)}
    error = ValueError if step == -1 else TypeError
    with pytest.raises(error, match=r"^step should be"):
        check_grads(p, {"a": np.zeros(2)}, step=step)
    check_grads(p, {"a": np.zeros(2)}, step=0)
    check_grads(p, {"a": np.zeros(2)})


@pytest.mark.parametrize("module, used", [
    ("rnncourse.lab", {"main", "use_literal_blocks", "with_language_info"}),
    ("rnncourse.sphinxext", {"setup", "execute_ahead", "execute", "kernel_config", "patch_cache_client", "source_hash",
                             "cancel_on_interrupt", "install_source", "write_install_source"}),
])
def test_tooling_modules_list_what_others_use_in_their_all(module, used):
    # tests, jupyter/jupyter_server_config.py, _config.yml and the README use these names; the modules had no __all__
    import importlib
    mod = importlib.import_module(module)
    assert set(getattr(mod, "__all__", ())) == used
    assert all(callable(getattr(mod, name)) for name in mod.__all__)


def _birnn_params():
    return {f"{n}_l0{s}": np.zeros(shape) for s in ("", "_reverse")
            for n, shape in (("W_xh", (4, 3)), ("W_hh", (4, 4)), ("b_h", (4,)))}


@pytest.mark.parametrize("call, message", [
    (lambda: rnn_forward(np.zeros((2, 1, 3)), None, np.zeros((4, 3)), np.eye(4).tolist(), np.zeros(4)),
     r"^W_hh should be a numpy\.ndarray, but is builtins\.list; wrap it with np\.asarray\(\.\.\.\)$"),
    (lambda: affine_forward(np.zeros((2, 1, 4)).tolist(), np.zeros((5, 4)), np.zeros(5)),
     r"^hs should be a numpy\.ndarray, but is builtins\.list; wrap it with np\.asarray\(\.\.\.\)$"),
    (lambda: birnn_forward(np.zeros((2, 1, 3)).tolist(), _birnn_params()),
     r"^x should be a numpy\.ndarray, but is builtins\.list; wrap it with np\.asarray\(\.\.\.\)$"),
    (lambda: softmax_cross_entropy(np.zeros((2, 1, 5)), np.zeros((2, 1), np.int64), [[True], [True]]),
     r"^mask should be a numpy\.ndarray of bools or 0/1 numbers, but is list$"),
], ids=["rnn_forward W_hh", "affine_forward hs", "birnn_forward x", "softmax_cross_entropy mask"])
def test_a_list_where_an_array_belongs_is_a_type_error_naming_it(call, message):
    with pytest.raises(TypeError, match=message):
        call()
