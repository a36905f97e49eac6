"""The book's recurrent networks in PyTorch: autograd, on the CPU or a CUDA GPU.

Each module is the twin of one in ``rnncourse.numpy``, with the same function and
weight names, so that a chapter can show both side by side and a test can
assert they agree. Shapes are time-major: ``x`` (T, B, D), hidden states
(T, B, H).

The twins rule (see :mod:`rnncourse`), PyTorch's half, follows ``torch.nn``:
a sequence forward returns ``(hs, h_T)`` (LSTM: ``(hs, (h_T, c_T))``), a step or
cell returns the new state (``h_t``; LSTM ``(h_t, c_t)``), a model with a read-out
its outputs first (``(Y, h_T)``, or ``Y`` alone where no task needs the state back;
``JordanRNN``, whose fed-back state is ``Y``, ``(Y, hs)``); autograd replaces the
NumPy caches. Weights carry the book's names (``W_xh``, ``W_hh``, ``b_h``, ...), except in
``CharLM``, ``Tagger`` and ``AddingModel``, built from ``torch.nn`` parts, which keep theirs;
``from_torch(module)`` and ``to_torch()`` convert to and from ``torch.nn``'s
modules, whose names differ; ``numpy_params()`` and ``from_numpy(params)`` to and
from the NumPy twin's arrays. A wrong shape or value raises ``ValueError``; a
wrong type, dtype or device of a tensor raises ``TypeError`` (inside :func:`torch.autocast`,
float16 and bfloat16 states are taken, as autocast makes them). Every tensor a call takes,
ids, targets and masks included, must be on the device of the model (or of the
first tensor); only the lengths of a padded batch may be anywhere. Inputs are
validated once per public call, never inside the loop over time.

- ``rnncourse.torch.device``: ``pick_device``;
- ``rnncourse.torch.elman``: ``rnn_step_forward``, ``rnn_forward``, ``ElmanRNN``;
- ``rnncourse.torch.gated``: ``LSTMCell``, ``GRUCell``, ``LSTM``, ``GRU``;
- ``rnncourse.torch.heads``: ``OutputLayer``, ``RNNModel``;
- ``rnncourse.torch.training``: ``TrainConfig``, ``History``, ``train``.

All of them are importable from ``rnncourse.torch`` directly. The training loop's module is
``training`` and its function ``train``, so ``rnncourse.torch.train`` is the function and
``rnncourse.torch.training`` the module, with its other names (``train_step``,
``check_finite_update``, ``MAX_SEED``).
"""

from rnncourse.torch.device import pick_device
from rnncourse.torch.elman import ElmanRNN, rnn_forward, rnn_step_forward
from rnncourse.torch.gated import GRU, LSTM, GRUCell, LSTMCell
from rnncourse.torch.heads import OutputLayer, RNNModel
from rnncourse.torch.training import History, TrainConfig, train

__all__ = [
    "pick_device",
    "rnn_step_forward",
    "rnn_forward",
    "ElmanRNN",
    "LSTMCell",
    "GRUCell",
    "LSTM",
    "GRU",
    "OutputLayer",
    "RNNModel",
    "TrainConfig",
    "History",
    "train",
]
