# Returns objects whose unpickling would run a command, and a torch-free opaque object: 0, nothing ran.
# %%
import os


class Payload:
    def __reduce__(self):
        return (os.system, ("touch @CANARY@",))


def double(x):
    return Payload()


def step_backward(dh_t, x_t, h_prev, W_xh, W_hh, h_t):
    return {"x_t": Payload(), "h_prev": Payload(), "W_xh": Payload(), "W_hh": Payload(), "b_h": Payload()}
