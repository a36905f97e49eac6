r"""Backpropagation through time for a whole LSTM layer, written out: the PyTorch twin of
:func:`rnncourse.numpy.gated.lstm_forward` and :func:`rnncourse.numpy.gated.lstm_backward`.

Autograd through :class:`rnncourse.torch.gated.LSTMCell` in a loop over time is correct, but it
cannot see that every step uses the same weights: it records each step's product
``h_{t-1} W_hh^T`` as its own operation and, going backwards, computes a weight gradient
``dA_t^T h_{t-1}`` for every step (T small products) and adds them up one by one. The sum over
time can be one product instead,

.. math::

    \frac{\partial L}{\partial W_{hh}} = \sum_t \delta a_t^\top h_{t-1} = \delta A^\top H_{\text{prev}},

where :math:`\delta A` (T·B, 4H) stacks the gradients of every step's pre-activations and
:math:`H_{\text{prev}}` (T·B, H) the states that entered each step; likewise for ``W_xh``, ``b_h``
and the inputs ``x``. That is what :func:`~rnncourse.numpy.gated.lstm_backward` does, and what
:class:`LSTMBPTT` does in PyTorch: its backward walks back in time carrying only ``dh`` and ``dc``,
writes each step's ``δa_t`` into one buffer, and after the loop computes the four gradients with
one product each. :class:`rnncourse.torch.gated.LSTM` runs on it; the tests check it against
autograd through :class:`~rnncourse.torch.gated.LSTMCell` (``torch.autograd.gradcheck``, float64)
and against :class:`torch.nn.LSTM` on the same weights, every gradient included.

It runs on any device (every buffer is made like its inputs). It is differentiable once:
gradients of gradients (``create_graph=True`` followed by a second backward) raise an error;
use :class:`~rnncourse.torch.gated.LSTMCell` in a loop for those.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

__all__ = ["LSTMBPTT"]


class LSTMBPTT(torch.autograd.Function):
    r"""One LSTM layer over a time-major sequence, with backpropagation through time as its backward.

    The gates are PyTorch's (i, f, g, o); see :mod:`rnncourse.torch.gated` for the equations.
    One difference from :func:`rnncourse.numpy.gated.lstm_forward`, for speed: the candidate
    ``g = tanh(a_g)`` is computed as ``2 sigmoid(2 a_g) - 1``, so that one sigmoid over each
    step's whole row of pre-activations serves all four gates. The two are equal in exact
    arithmetic, not in floating point: doubling the sigmoid doubles its rounding error, so in
    float32 ``g`` is within 2.5e-7 of ``torch.tanh(a_g)`` absolutely (about 1e-7 near 0; the
    tests check the bound on the CPU). For a tiny ``a_g`` that is a large relative error (at
    1e-6, up to about 10%): compare outputs with tiny pre-activations against
    ``torch.nn.LSTM`` with an absolute tolerance, not a relative one. In float64 the
    difference is a few times 1e-16.
    No validation: :class:`rnncourse.torch.gated.LSTM` checks its inputs once and calls
    ``LSTMBPTT.apply(x, h0, c0, W_xh, W_hh, b_h)``, whose arguments and results :meth:`forward` lists.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, W_xh, W_hh, b_h):
        """``(hs, c_T)`` from the sequence; saves the gates and the states for :meth:`backward`.

        Called by ``LSTMBPTT.apply(x, h0, c0, W_xh, W_hh, b_h)``; ``ctx`` is autograd's.

        Parameters
        ----------
        x : torch.Tensor, shape (T, B, D)
            Input sequence, time-major.
        h0, c0 : torch.Tensor, shape (B, H)
            Initial hidden and cell states.
        W_xh : torch.Tensor, shape (4H, D)
            Input weights of the gates i, f, g, o, stacked.
        W_hh : torch.Tensor, shape (4H, H)
            Recurrent weights, stacked alike.
        b_h : torch.Tensor, shape (4H,)
            Bias.

        Returns
        -------
        hs : torch.Tensor, shape (T, B, H)
            Hidden states h_1 ... h_T.
        c_T : torch.Tensor, shape (B, H)
            The final cell state.
        """
        T, B, D = x.shape
        H = W_hh.shape[1]
        # tanh(z) = 2 sigmoid(2z) - 1 (exactly in real numbers; in float32 within 2.5e-7 absolutely,
        # see the class docstring): with g's rows of the weights doubled, one sigmoid over a whole
        # row of pre-activations serves all four gates, and g is recovered from it. (PyTorch's float32
        # sigmoid costs a third or less of its tanh on the CPU, and one call replaces three: the
        # layer's forward + backward takes about a tenth less time.)
        double_g = x.new_ones(4 * H, 1)
        double_g[2 * H:3 * H] = 2
        gates = torch.addmm(b_h * double_g[:, 0], x.reshape(T * B, D), (W_xh * double_g).t()).view(T, B, 4 * H)
        W_hh_t = (W_hh * double_g).t()
        hs, cs, tanh_cs = x.new_empty(T, B, H), x.new_empty(T, B, H), x.new_empty(T, B, H)
        i, f, g, o = gates.split(H, dim=2)                              # (T, B, H) views, one per gate
        h, c = h0, c0
        for t in range(T):
            gates[t].addmm_(h, W_hh_t).sigmoid_()                       # a_t, then i, f, o and sigmoid(2 a_g)
            g[t].mul_(2).sub_(1)                                        # g = tanh(a_g); each gate overwrites a_t
            c = torch.mul(f[t], c, out=cs[t]).addcmul_(i[t], g[t])      # c_t = f c_{t-1} + i g
            h = torch.mul(o[t], torch.tanh(c, out=tanh_cs[t]), out=hs[t])   # h_t = o tanh(c_t)
        ctx.save_for_backward(x, h0, c0, W_xh, W_hh, hs, cs, tanh_cs, gates)
        return hs, c.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, dhs, dc_T):
        """The gradients for ``x, h0, c0, W_xh, W_hh, b_h`` from those of ``hs`` and ``c_T``.

        Called by autograd; ``ctx`` holds what :meth:`forward` saved.

        Parameters
        ----------
        dhs : torch.Tensor, shape (T, B, H)
            dL/dhs, the gradient of every hidden state.
        dc_T : torch.Tensor, shape (B, H)
            dL/dc_T.

        Returns
        -------
        tuple of torch.Tensor
            ``(dx, dh0, dc0, dW_xh, dW_hh, db_h)``, each the shape of its input; ``dx`` is ``None``
            when ``x`` needs no gradient.
        """
        x, h0, c0, W_xh, W_hh, hs, cs, tanh_cs, gates = ctx.saved_tensors
        T, B, D = x.shape
        H = W_hh.shape[1]
        # What each step's equations multiply the incoming gradients by (lstm_step_backward's factors),
        # for every step at once, since they do not depend on the gradients:
        i, f, g, o = gates.split(H, dim=2)                              # (T, B, H) each
        dA = torch.addcmul(gates, gates, gates, value=-1)               # sigmoid' = s (1 - s) for i, f, o
        da_i, da_f, da_g, da_o = dA.split(H, dim=2)
        da_i.mul_(g)                                                    # c_t = f c_{t-1} + i g
        da_f[1:].mul_(cs[:-1])                                          # c_{t-1} for t >= 1 ...
        da_f[0].mul_(c0)                                                # ... and c_0
        torch.addcmul(i, i, g * g, value=-1, out=da_g)                  # g's block: i tanh' = i (1 - g^2)
        da_o.mul_(tanh_cs)                                              # h_t = o tanh(c_t)
        dc_per_dh = torch.addcmul(o, o, tanh_cs * tanh_cs, value=-1)    # o (1 - tanh^2 c_t)
        # Back in time, each dA[t] (B, 4H) is multiplied by what its gates receive (dc for i, f, g;
        # dh for o) and becomes the gradient of the pre-activations a_t.
        dc = dc_T.clone()
        for t in reversed(range(T)):
            # dL/dh_t: from the loss at t and, through a_{t+1} = ... + h_t W_hh^T, from step t + 1
            dh = dhs[t] if t == T - 1 else torch.addmm(dhs[t], dA[t + 1], W_hh)
            dc.addcmul_(dh, dc_per_dh[t])                               # along the cell state, and through h_t
            dA[t].mul_(torch.cat([dc, dc, dc, dh], dim=1))              # dL/da_t
            dc.mul_(f[t])                                               # to c_{t-1}: only the forget gate
        dh = dA[0] @ W_hh                                               # to h_0
        # Every weight is shared by all steps: its gradient is one product over all T*B rows.
        dA = dA.view(T * B, 4 * H)
        h_prevs = torch.cat([h0[None], hs[:-1]])                        # the state entering each step
        dW = dA.t() @ torch.cat([x, h_prevs], dim=2).view(T * B, D + H)  # a_t = [W_xh, W_hh] [x_t; h_{t-1}] + b_h
        dx = (dA @ W_xh).view(T, B, D) if ctx.needs_input_grad[0] else None
        return dx, dh, dc, dW[:, :D], dW[:, D:], dA.sum(dim=0)
