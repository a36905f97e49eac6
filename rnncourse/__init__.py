"""rnncourse: the companion package of the course book on recurrent neural networks.

Every idea of the book is implemented twice, with the same names and signatures:

- :mod:`rnncourse.numpy` -- explicit forward and backward passes in NumPy (no autograd,
  no torch import);
- :mod:`rnncourse.torch` -- the same models in PyTorch (autograd, CPU or CUDA).

Sequences are time-major: ``x`` has shape ``(T, B, D)`` and hidden states ``(T, B, H)``,
as in :class:`torch.nn.RNN`'s default. Importing the package does nothing else:
no file reads, no downloads, no training.
"""

__version__ = "0.1.0"
