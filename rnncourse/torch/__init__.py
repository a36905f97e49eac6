"""The book's recurrent networks in PyTorch: autograd, on the CPU or a CUDA GPU.

Each module is the twin of one in ``rnncourse.numpy``, with the same names
and signatures, so that a chapter can show both side by side and a test can
assert they agree. Shapes are time-major: ``x`` (T, B, D), hidden states
(T, B, H).

- ``rnncourse.torch.device``: ``pick_device``, ``seed_everything``;
- ``rnncourse.torch.elman``: ``rnn_step_forward``, ``rnn_forward``, ``ElmanRNN``;
- ``rnncourse.torch.heads``: ``OutputLayer``, ``RNNModel``;
- ``rnncourse.torch.train``: ``TrainConfig``, ``History``, ``train``.

All of them are importable from ``rnncourse.torch`` directly.
"""

from rnncourse.torch.device import pick_device, seed_everything
from rnncourse.torch.elman import ElmanRNN, rnn_forward, rnn_step_forward
from rnncourse.torch.heads import OutputLayer, RNNModel
from rnncourse.torch.train import History, TrainConfig, train

__all__ = [
    "pick_device",
    "seed_everything",
    "rnn_step_forward",
    "rnn_forward",
    "ElmanRNN",
    "OutputLayer",
    "RNNModel",
    "TrainConfig",
    "History",
    "train",
]
