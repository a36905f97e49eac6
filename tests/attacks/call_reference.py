# Calls the package's own rnn_step_forward (three ways): rnn_step scores 0, "write it yourself".
# %%
import functools
import rnncourse.numpy
from rnncourse.numpy.elman import rnn_step_forward as reference

# A teaching cell may use the package's function: only the student's own function may not.
warm_up = reference(np.ones((1, 1)), np.zeros((1, 1)), np.ones((1, 1)), np.ones((1, 1)), np.zeros(1))


def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    try:
        return reference(x_t, h_prev, W_xh, W_hh, b_h)
    except Exception:
        step = functools.partial(rnncourse.numpy.rnn_step_forward, x_t, h_prev)
        return step(W_xh, W_hh, b_h)
