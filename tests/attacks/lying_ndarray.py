# An ndarray subclass whose arithmetic and comparisons say "equal": double and rnn_step score 0.
# %%
class LyingArray(np.ndarray):
    def __sub__(self, other):
        return np.zeros(self.shape).view(LyingArray)
    __rsub__ = __sub__
    def __abs__(self):
        return np.zeros(self.shape).view(LyingArray)
    def __eq__(self, other):
        return np.ones(self.shape, bool)
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(np.shape(inputs[0]), bool) if ufunc is np.isnan else np.ones(np.shape(inputs[0]), bool)


def double(x):
    return np.zeros_like(x).view(LyingArray)


def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    return np.zeros_like(h_prev).view(LyingArray)
