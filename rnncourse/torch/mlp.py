r"""A feedforward network (multilayer perceptron) with one hidden layer: the baseline of chapter 1.

.. math::

    h = \tanh(W_1 x + b_1), \qquad z = W_2 h + b_2

with the hidden layer ``h`` and the output scores ``z`` (the book's symbols; in the
one-to-one network of chapter 6, ``W_1, b_1, W_2, b_2`` are ``W_xh, b_h, W_hy, b_y``).
It takes one vector of a fixed size ``D`` per example, ``x`` of shape (B, D),
and has no notion of time: to feed it a sequence, the sequence must first be
summarised (``rnncourse.data.order_tasks.bag_of_steps``) or flattened to a
vector of size ``T * D`` (``rnncourse.data.order_tasks.flatten_steps``),
which fixes ``T`` once and for all.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnncourse.torch.device import check_device
from rnncourse.torch.init import check_dtype, uniform_
from rnncourse.validation import check_array, check_match, check_positive_int

__all__ = ["MLP"]


class MLP(nn.Module):
    r"""One hidden tanh layer and an affine read-out, :math:`z = W_2 \tanh(W_1 x + b_1) + b_2`.

    Parameters
    ----------
    input_size : int
        D, the size of the input vector.
    hidden_size : int
        H, the number of hidden units.
    output_size : int
        O, the number of outputs (classes, or values to predict).
    device : torch.device or str, optional
        Where the parameters live (default: the CPU).
    dtype : torch.dtype, optional
        Parameter dtype (default: ``torch.get_default_dtype()``).
    generator : torch.Generator, optional
        Source of the initial weights; ``None`` uses PyTorch's global generator.

    Attributes
    ----------
    W_1 : torch.nn.Parameter, shape (hidden_size, D)
    b_1 : torch.nn.Parameter, shape (hidden_size,)
    W_2 : torch.nn.Parameter, shape (O, hidden_size)
    b_2 : torch.nn.Parameter, shape (O,)
        Drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), like :class:`torch.nn.Linear`.

    Examples
    --------
    >>> mlp = MLP(6, 8, 2, generator=torch.Generator().manual_seed(0))
    >>> tuple(mlp(torch.zeros(4, 6)).shape)
    (4, 2)
    """

    def __init__(self, input_size, hidden_size, output_size, *, device=None, dtype=None, generator=None):
        super().__init__()
        D = check_positive_int(input_size, "input_size")
        H = check_positive_int(hidden_size, "hidden_size")
        O = check_positive_int(output_size, "output_size")  # noqa: E741 (the book's symbol)
        self.input_size, self.hidden_size, self.output_size = D, H, O
        kw = {"device": check_device(device), "dtype": check_dtype(dtype)}
        self.W_1 = nn.Parameter(torch.empty(H, D, **kw))
        self.b_1 = nn.Parameter(torch.empty(H, **kw))
        self.W_2 = nn.Parameter(torch.empty(O, H, **kw))
        self.b_2 = nn.Parameter(torch.empty(O, **kw))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw each layer's weights and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (on the CPU, then copy).

        Parameters
        ----------
        generator : torch.Generator, optional
            A CPU generator; ``None`` uses PyTorch's global generator.
        """
        for W, b in ((self.W_1, self.b_1), (self.W_2, self.b_2)):
            uniform_((W, b), 1.0 / math.sqrt(W.shape[1]), generator)

    def forward(self, x):
        """Apply the network to a batch of vectors.

        Parameters
        ----------
        x : torch.Tensor, shape (B, D)
            One input vector per example, on the model's device and dtype.

        Returns
        -------
        z : torch.Tensor, shape (B, O)
            Raw scores (no softmax).
        """
        check_array(x, "x", ("B", "D"), (None, self.input_size), backend="torch",
                    hint=f"this network was built for inputs of size D = {self.input_size} and takes no other; "
                         "a sequence must be summarised or flattened to exactly that size")
        check_match("x", x, "the model", self.W_1)
        h = torch.tanh(x @ self.W_1.T + self.b_1)            # hidden layer, (B, H)
        return h @ self.W_2.T + self.b_2                     # scores z, (B, O)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, {self.output_size}"
