"""The Elman RNN in NumPy, with explicit forward and backward passes (no autograd, no torch).

Sequences are time-major: ``x`` has shape ``(T, B, D)``, hidden states ``(T, B, H)``.
Forward functions return ``(out, cache)``; backward functions take ``(dout, cache)``
and return a dict of gradients named like the inputs and parameters.
"""

from rnncourse.numpy.clip import clip_grad_norm, clip_grad_value, grad_norm
from rnncourse.numpy.elman import RNNCache, StepCache, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from rnncourse.numpy.gradcheck import grad_check, numerical_gradient, rel_error
from rnncourse.numpy.init import init_output_params, init_rnn_params, spectral_radius
from rnncourse.numpy.losses import mse_loss, softmax, softmax_cross_entropy
from rnncourse.numpy.model import PARAM_NAMES, init_model_params, model_forward, model_loss
from rnncourse.numpy.optim import SGD, Adagrad, Adam, check_grads, sgd_step
from rnncourse.numpy.output import affine_backward, affine_forward
from rnncourse.numpy.tbptt import iterate_tbptt, tbptt_chunks, truncated_rnn_backward

__all__ = [
    "RNNCache", "StepCache", "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "affine_forward", "affine_backward",
    "softmax", "softmax_cross_entropy", "mse_loss",
    "init_rnn_params", "init_output_params", "spectral_radius",
    "PARAM_NAMES", "init_model_params", "model_forward", "model_loss",
    "tbptt_chunks", "truncated_rnn_backward", "iterate_tbptt",
    "SGD", "Adagrad", "Adam", "sgd_step", "check_grads",
    "clip_grad_norm", "clip_grad_value", "grad_norm",
    "numerical_gradient", "rel_error", "grad_check",
]
