"""rnncourse: the companion package of the course book on recurrent neural networks.

Every idea of the book is implemented twice, with the same names:

- :mod:`rnncourse.numpy` -- explicit forward and backward passes in NumPy (no autograd,
  no torch import);
- :mod:`rnncourse.torch` -- the same models in PyTorch (autograd, CPU or CUDA).

The twins rule, one for the whole package:

1. NumPy: every ``*_forward`` returns ``(out, cache)``; every ``*_backward(dout, cache)``
   returns a dict of gradients keyed by the input and parameter names. So
   ``rnn_step_forward(...) -> (h_t, cache)`` and ``rnn_forward(...) -> (hs, cache)``,
   where ``hs[-1]`` is the final state. A returned array that the cache also holds
   (``h_t``, ``hs``) is read-only: writing into it raises instead of corrupting the
   backward pass.
2. PyTorch follows ``torch.nn``: a sequence forward returns ``(hs, h_T)`` (LSTM:
   ``(hs, (h_T, c_T))``); a step or cell returns the new state (``h_t``; LSTM
   ``(h_t, c_t)``). A model with a read-out returns its outputs first: ``(Y, h_T)`` where
   its final state can be carried on, ``Y`` alone where no task needs the state back
   (``Tagger``, ``AddingModel``, ``Seq2Seq``), ``(Y, hs)`` for ``JordanRNN``, whose
   fed-back state is ``Y``.
3. The letters T, B, D, H, O, V are sizes only. The array of all hidden states is
   ``hs`` (T, B, H), its gradient ``dhs``; single states are ``h_t``, ``h_prev``,
   ``h0``, ``h_T``; the final states of a stack of L layers, (L, B, H), are ``h_n``, as
   :class:`torch.nn.RNN`'s. A read-out (``affine_forward``, ``OutputLayer``) takes ``hs`` or
   one state (B, H) alike.
4. Weights have one name in both libraries: Elman ``W_xh`` (H, D), ``W_hh`` (H, H),
   ``b_h`` (H,); output ``W_hy`` (O, H), ``b_y`` (O,); Jordan adds ``W_yh``; LSTM
   ``W_xh`` (4H, D), ``W_hh`` (4H, H), ``b_h`` (4H,) (gates i, f, g, o;
   ``b_h = bias_ih + bias_hh``); GRU ``W_xh`` (3H, D), ``W_hh`` (3H, H), ``b_xh``,
   ``b_hh`` (3H,) (gates r, z, n). ``from_torch(module)`` / ``to_torch()`` convert
   to and from ``torch.nn`` modules, whose names differ; ``numpy_params()`` /
   ``from_numpy(params)`` to and from the NumPy twin's arrays. Three models are built from
   ``torch.nn`` parts and keep its parameter names (``rnn.weight_ih_l0``, ``out.weight``):
   ``CharLM`` and ``Tagger`` of chapter 9 and ``AddingModel`` of chapters 5 and 8. ``CharLM``
   is a counterpart, not a twin: it has a learned embedding of its own, where the NumPy
   character model folds it into ``W_xh``.
5. Errors: a wrong shape or value raises ``ValueError``; a wrong type, dtype or
   device of a tensor raises ``TypeError`` (inside :func:`torch.autocast`, the float16 and
   bfloat16 tensors that autocast makes are taken). A ``device=`` argument that names no
   device, or a GPU the machine lacks, is a wrong value: ``ValueError``; so is a choice of the
   right kind that is not offered (``nonlinearity="sigmoid"``), while one of another kind
   (``nonlinearity=3``) is a ``TypeError``. Inputs are validated once per public call, never
   inside a loop over time steps.
6. Argument order: a layer or topology takes the data first, as a module's ``forward(x)``
   (``rnn_forward(x, h0, ...)``, ``many_to_one_forward(x, params)``); a loss takes ``params``
   first, as the function a gradient check differentiates (``model_loss(params, x, targets)``),
   and so do ``model_forward`` and ``charlm_forward``, the first halves of ``model_loss`` and
   ``charlm_loss``. Swapped, they raise a ``TypeError`` that gives the order.
7. A returned state is the caller's: PyTorch's ``h_T`` is a tensor of its own (as
   ``torch.nn.RNN``'s), so resetting it in place leaves ``hs`` and the backward pass intact.

Sequences are time-major: ``x`` has shape ``(T, B, D)`` and hidden states ``(T, B, H)``,
as in :class:`torch.nn.RNN`'s default. Importing the package does nothing else:
no file reads, no downloads, no training.
"""

__version__ = "0.1.0"
