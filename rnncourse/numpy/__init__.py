"""The book's recurrent networks in NumPy, with explicit forward and backward passes (no autograd, no torch).

The twins rule (see :mod:`rnncourse`), NumPy's half:

- every ``*_forward`` returns ``(out, cache)``; every ``*_backward(dout, cache)``
  returns a dict of gradients keyed by the input and parameter names
  (``{"x": ..., "h0": ..., "W_xh": ...}``);
- ``rnn_step_forward(...) -> (h_t, cache)``; ``rnn_forward(...) -> (hs, cache)``, where
  the final state is ``hs[-1]``; a returned array that the cache also holds (``h_t``,
  ``hs``, as ``cache.h_t`` and ``cache.hs``) is read-only, so that an edit cannot
  corrupt the backward pass;
- T, B, D, H, O, V are sizes only; ``hs`` is the array of all hidden states and ``dhs``
  its gradient; single states are ``h_t``, ``h_prev``, ``h0``, ``h_T``;
- weights carry the book's names, the same as in :mod:`rnncourse.torch`: ``W_xh``,
  ``W_hh``, ``b_h``, ``W_hy``, ``b_y`` (gated cells: see :mod:`rnncourse.numpy.gated`);
- a wrong shape or value raises ``ValueError``, a wrong type or dtype ``TypeError``.

Sequences are time-major: ``x`` has shape ``(T, B, D)``, hidden states ``(T, B, H)``.
"""

from rnncourse.numpy.clip import clip_grad_norm, clip_grad_value, grad_norm
from rnncourse.numpy.elman import RNNCache, StepCache, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from rnncourse.numpy.gradcheck import grad_check, numerical_gradient, rel_error
from rnncourse.numpy.init import init_output_params, init_rnn_params, spectral_radius
from rnncourse.numpy.losses import mse_loss, softmax, softmax_cross_entropy
from rnncourse.numpy.model import PARAM_NAMES, ModelCache, init_model_params, model_backward, model_forward, model_loss
from rnncourse.numpy.optim import SGD, Adagrad, Adam, check_grads
from rnncourse.numpy.output import AffineCache, affine_backward, affine_forward
from rnncourse.numpy.tbptt import tbptt_chunks

__all__ = [
    "RNNCache", "StepCache", "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "AffineCache", "affine_forward", "affine_backward",
    "softmax", "softmax_cross_entropy", "mse_loss",
    "init_rnn_params", "init_output_params", "spectral_radius",
    "PARAM_NAMES", "ModelCache", "init_model_params", "model_forward", "model_backward", "model_loss",
    "tbptt_chunks",
    "SGD", "Adagrad", "Adam", "check_grads",
    "clip_grad_norm", "clip_grad_value", "grad_norm",
    "numerical_gradient", "rel_error", "grad_check",
]
