"""rnncourse.torch.training: the loop learns, repeats exactly, clips, and stops on NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnncourse.numpy.clip import grad_norm as np_grad_norm
from rnncourse.torch import RNNModel, TrainConfig, train
from rnncourse.torch.clip import clip_grad_norm, grad_norm


def delay_task(rng, T=8, B=16):
    """y_t = x_{t-1} (y_0 = 0): the network must remember one step back."""
    x = rng.normal(size=(T, B, 1)).astype(np.float32)
    y = np.concatenate([np.zeros((1, B, 1), np.float32), x[:-1]])
    return x, y


def fresh_model(seed=0):
    return RNNModel(1, 16, 1, generator=torch.Generator().manual_seed(seed))


def test_training_learns_a_tiny_task_quickly():
    history = train(fresh_model(), delay_task, F.mse_loss, TrainConfig(steps=150, lr=0.02), progress=False)
    assert len(history.losses) == len(history.grad_norms) == 150
    first, last = np.mean(history.losses[:5]), np.mean(history.losses[-10:])
    assert last < 0.1 * first, (first, last)
    assert all(g > 0 and math.isfinite(g) for g in history.grad_norms)


def test_same_config_gives_identical_losses_and_the_seed_matters():
    config = TrainConfig(steps=20, lr=0.01, seed=4)
    a = train(fresh_model(), delay_task, F.mse_loss, config, progress=False)
    b = train(fresh_model(), delay_task, F.mse_loss, config, progress=False)
    c = train(fresh_model(), delay_task, F.mse_loss, TrainConfig(steps=20, lr=0.01, seed=5), progress=False)
    assert a.losses == b.losses and a.grad_norms == b.grad_norms
    assert a.losses != c.losses


def test_the_seed_repeats_a_random_forward_whatever_the_global_generator_did():
    # The forward applies dropout, drawn from torch's global generator: train() seeds that generator
    # from config.seed, so two runs give the same losses even after the generator was moved between them.
    def dropout_forward(model, x, y):
        return model(F.dropout(x, p=0.5))

    config = TrainConfig(steps=5, lr=0.01, seed=4)
    runs = []
    for outside_seed in (1, 2):
        torch.manual_seed(outside_seed)
        runs.append(train(fresh_model(), delay_task, F.mse_loss, config, forward=dropout_forward, progress=False))
    assert runs[0].losses == runs[1].losses


def test_train_inside_no_grad_still_trains():
    model = fresh_model()
    before = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():                       # e.g. a notebook cell left inside an evaluation block
        history = train(model, delay_task, F.mse_loss, TrainConfig(steps=3), progress=False)
        assert not torch.is_grad_enabled()      # given back as it was
    assert len(history.losses) == 3 and all(g > 0 for g in history.grad_norms)
    assert all(not torch.equal(p, q) for p, q in zip(model.parameters(), before))


def test_a_model_left_in_eval_mode_trains_in_training_mode_and_stays_in_it():
    model = fresh_model().eval()
    seen = []
    train(model, delay_task, F.mse_loss, TrainConfig(steps=2), progress=False,
          forward=lambda m, x, y: seen.append(m.training) or m(x))
    assert seen == [True, True] and model.training and model.rnn.training


def test_nan_loss_stops_training_with_advice_and_no_update():
    rng = np.random.default_rng(0)
    data = [delay_task(rng) for _ in range(6)]
    data[4] = (data[4][0], np.full_like(data[4][1], np.nan))
    model = fresh_model()
    # The NaN is in the batch's targets, so the message says so instead of blaming lr or clip.
    with pytest.raises(FloatingPointError, match=r"loss became nan at step 4; the last finite loss was .* "
                                                 r"at step 3.*the batch of step 4 has NaN in its targets \(y\): "
                                                 r"check the data$"):
        train(model, data, F.mse_loss, TrainConfig(steps=None, lr=0.01), progress=False)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_gradient_that_is_not_finite_stops_training():
    # The loss is finite (0 plus the MSE), its gradient is not: the square root's slope at 0 is infinite.
    model = fresh_model()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(FloatingPointError, match="gradient norm became (inf|nan) at step 0"):
        train(model, delay_task, lambda Y, y: F.mse_loss(Y, y) + (Y - Y.detach()).sqrt().sum(),
              TrainConfig(steps=3, clip=1.0), progress=False)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))


def huge_gradient_model():
    """Read-out weights of 1e30: outputs near 1e31, a finite L1 loss, and finite gradient entries near 1e30
    whose squares (1e60) overflow float32."""
    model = fresh_model()
    with torch.no_grad():
        model.out.W_hy.fill_(1e30)
    return model


def l1_loss(Y, y):
    return (Y - y).abs().mean()


def test_a_finite_gradient_too_large_to_square_in_float32_is_clipped_not_refused():
    # It stopped with "the gradient norm became inf": the norm was summed in float32, where the squares overflow.
    model = huge_gradient_model()
    x, y = delay_task(np.random.default_rng(0))
    l1_loss(model(torch.from_numpy(x))[0], torch.from_numpy(y)).backward()
    expected = np_grad_norm({name: p.grad.numpy() for name, p in model.named_parameters()})
    assert 1e30 < expected < np.inf
    model.zero_grad()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    history = train(model, [(x, y)], l1_loss, TrainConfig(steps=1, lr=0.5, optimizer="sgd", clip=1.0),
                    progress=False)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert history.grad_norms[0] == pytest.approx(expected, rel=1e-5)   # the norm before clipping, finite
    assert grad_norm([p.grad for p in model.parameters()]) == pytest.approx(1.0, rel=1e-5)
    assert float(torch.linalg.vector_norm(after.double() - before.double())) == pytest.approx(0.5, rel=1e-3)


@pytest.mark.parametrize("dtype, scale", [(torch.float32, 1e20), (torch.float32, 1e-30), (torch.float32, 1e-42),
                                          (torch.float64, 1e200), (torch.float64, 1e-200), (torch.float32, 1.0)])
def test_grad_norm_is_the_numpy_twins_norm_where_float32_squares_overflow_or_underflow(dtype, scale):
    # float32 squares of 1e20 are inf and those of 1e-30 are 0: the norm was inf or 0 where the NumPy twin's is exact.
    g = torch.Generator().manual_seed(0)
    grads = [(torch.randn(4, 3, generator=g, dtype=torch.float64) * scale).to(dtype),
             (torch.randn(5, generator=g, dtype=torch.float64) * scale).to(dtype)]
    expected = np_grad_norm({str(i): t.numpy() for i, t in enumerate(grads)})
    assert 0 < expected < np.inf
    assert grad_norm(grads) == pytest.approx(expected, rel=1e-6, abs=0)
    assert grad_norm([]) == 0.0 and grad_norm([torch.zeros(3)]) == 0.0
    assert math.isnan(grad_norm([torch.tensor([1.0, math.nan])]))
    assert grad_norm([torch.tensor([1.0, math.inf])]) == math.inf



@pytest.mark.parametrize("entry", [1e-160, 1e-150])
def test_grad_norm_of_tiny_float64_gradients_is_exact(entry):
    # Squares of 1e-160 are subnormal (1e-320): summed as they are, the norm was 5.6e-6 off (relatively).
    assert grad_norm([torch.full((100,), entry, dtype=torch.float64)]) == pytest.approx(10 * entry, rel=1e-12, abs=0)


def test_clip_grad_norm_scales_only_a_finite_norm_above_the_limit():
    params = [torch.nn.Parameter(torch.zeros(n)) for n in (2, 1, 1)]
    params[0].grad, params[1].grad = torch.tensor([3e20, 0.0]), torch.tensor([4e20])     # params[2] has no gradient
    assert clip_grad_norm(params, 1.0) == pytest.approx(5e20)
    assert params[0].grad.tolist() == pytest.approx([0.6, 0.0]) and params[1].grad.tolist() == pytest.approx([0.8])
    assert clip_grad_norm(params, 2.0) == pytest.approx(1.0) and params[1].grad.tolist() == pytest.approx([0.8])
    assert clip_grad_norm(params, math.inf) == pytest.approx(1.0)
    params[1].grad = torch.tensor([math.inf])
    assert clip_grad_norm(params, 1.0) == math.inf and params[0].grad.tolist() == pytest.approx([0.6, 0.0])


def infinite_from_step(k):
    """An MSE loss that returns inf from its k-th call on: a divergence after updates, on finite data."""
    calls = []

    def loss_fn(Y, y):
        calls.append(1)
        return F.mse_loss(Y, y) * (math.inf if len(calls) > k else 1.0)
    return loss_fn


def test_divergence_advice_names_the_values_of_lr_and_clip():
    rng = np.random.default_rng(0)
    data = [delay_task(rng) for _ in range(3)]
    with pytest.raises(FloatingPointError, match=r"^the loss became inf at step 1; the last finite loss was .* at "
                                                 r"step 0\. Training stopped instead of continuing on garbage: lower "
                                                 r"the learning rate \(lr=0\.05\) or set clip \(e\.g\. clip=1\.0\)$"):
        train(fresh_model(), data, infinite_from_step(1), TrainConfig(steps=None, lr=0.05), progress=False)
    with pytest.raises(FloatingPointError, match=r"lower the learning rate \(lr=0\.01\) or lower clip \(clip=5\)$"):
        train(fresh_model(), data, infinite_from_step(1), TrainConfig(steps=None, clip=5.0), progress=False)


class Linear2to1(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 1)

    def forward(self, x):
        return self.lin(x)


def test_a_nan_in_the_inputs_is_named_with_its_step_not_blamed_on_lr():
    calls = []

    def batches(rng):                                    # finite batches, but a NaN in the inputs of step 4
        calls.append(1)
        x = rng.normal(size=(8, 2)).astype(np.float32)
        if len(calls) == 5:
            x[0, 0] = np.nan
        return x, x[:, 1:]                              # targets from the other column: finite
    with pytest.raises(FloatingPointError) as err:
        train(Linear2to1(), batches, F.mse_loss, TrainConfig(steps=10), progress=False)
    assert str(err.value).startswith("the loss became nan at step 4; the last finite loss was ")
    assert str(err.value).endswith("Training stopped instead of continuing on garbage: the batch of step 4 has NaN "
                                   "in its inputs (x): check the data")


def test_nan_and_inf_in_both_halves_of_the_batch_are_all_named():
    x = np.ones((8, 2), np.float32)
    x[0, 0], x[1, 1] = np.nan, -np.inf
    y = np.full((8, 1), np.inf, np.float32)
    with pytest.raises(FloatingPointError, match=r"at step 0; no step finished before it\. Training stopped instead "
                                                 r"of continuing on garbage: the batch of step 0 has NaN and inf in "
                                                 r"its inputs \(x\) and inf in its targets \(y\): check the data$"):
        train(Linear2to1(), [(x, y)], F.mse_loss, TrainConfig(steps=None), progress=False)


def test_a_loss_not_finite_before_any_update_points_at_the_data_scale_not_at_lr():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 2)).astype(np.float32) * np.float32(1e30)     # finite, but its square overflows
    with pytest.raises(FloatingPointError) as err:
        train(Linear2to1(), [(x, x[:, :1])], F.mse_loss, TrainConfig(steps=None, lr=0.05), progress=False)
    message = str(err.value)
    assert message.startswith("the loss became inf at step 0; no step finished before it. ")
    largest = f"{float(np.abs(x).max()):.3g}"
    assert (f"this training has made no update yet, so its lr and clip are not the cause: the batch is finite, but "
            f"its largest |x| is {largest} and its largest |y| is ") in message
    assert "scale the data" in message and "the model's outputs on it" in message
    assert "lower the learning rate" not in message


def test_a_batch_that_is_not_tensors_is_not_inspected():
    # train_step is public: a forward hook may take inputs that are not one tensor (here a dict), which the
    # message skips instead of failing on.
    from rnncourse.torch.training import History, train_step
    model = Linear2to1()
    params = list(model.parameters())
    optimizer = torch.optim.SGD(params, lr=0.1)
    x = {"a": torch.full((4, 2), math.nan)}
    y = torch.zeros(4, 1)
    with pytest.raises(FloatingPointError, match=r"the loss became nan at step 3; no step finished before it\. "
                                                 r"Training stopped instead of continuing on garbage: lower the "
                                                 r"learning rate \(lr=0\.01\) or set clip"):
        train_step(model, params, optimizer, F.mse_loss, x, y, TrainConfig(), 3, History(),
                   forward=lambda m, x, y: m(x["a"]))


def test_a_batch_that_is_not_tensors_has_no_largest_value_in_the_step_0_message():
    # At step 0 the message gives the batch's largest |x|; for a dict x it has none to give and says "?".
    from rnncourse.torch.training import History, train_step
    model = Linear2to1()
    with torch.no_grad():
        model.lin.weight.fill_(1.0)
    params = list(model.parameters())
    x = {"a": torch.full((4, 2), 1e30)}                 # finite, but (2e30)^2 overflows float32
    with pytest.raises(FloatingPointError, match=r"the loss became inf at step 0; .* the batch is finite, but its "
                                                 r"largest \|x\| is \? and its largest \|y\| is 0; scale the data"):
        train_step(model, params, torch.optim.SGD(params, lr=0.1), F.mse_loss, x, torch.zeros(4, 1), TrainConfig(),
                   0, History(), forward=lambda m, x, y: m(x["a"]))


def test_clipping_bounds_the_update_and_records_the_raw_norm():
    model = fresh_model()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    config = TrainConfig(steps=1, lr=0.5, optimizer="sgd", clip=1e-3)
    history = train(model, delay_task, F.mse_loss, config, progress=False)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert history.grad_norms[0] > 1e-3                         # the norm before clipping is recorded
    assert float(torch.linalg.vector_norm(after - before)) == pytest.approx(0.5 * 1e-3, rel=1e-3)


def test_iterables_and_epochs():
    rng = np.random.default_rng(1)
    data = [delay_task(rng) for _ in range(3)]
    assert len(train(fresh_model(), data, F.mse_loss, TrainConfig(steps=None, epochs=2), progress=False).losses) == 6
    assert len(train(fresh_model(), data, F.mse_loss, TrainConfig(steps=4, epochs=5), progress=False).losses) == 4
    one_shot = (b for b in data)                     # a generator is used up after one epoch
    assert len(train(fresh_model(), one_shot, F.mse_loss, TrainConfig(steps=None), progress=False).losses) == 3


@pytest.mark.parametrize("epochs_of_a_list", [True, False])
def test_the_progress_bar_counts_to_the_number_of_steps(epochs_of_a_list, capsys):
    # 2 epochs of a list of 3 batches: 6 steps; 4 steps of a generator, whose length is unknown: 4.
    rng = np.random.default_rng(1)
    data = [delay_task(rng) for _ in range(3)]
    batches, config, n = ((data, TrainConfig(steps=None, epochs=2), 6) if epochs_of_a_list else
                          ((delay_task(rng) for _ in range(9)), TrainConfig(steps=4), 4))
    train(fresh_model(), batches, F.mse_loss, config, progress=True)
    assert f"| {n}/{n} [" in capsys.readouterr().err


def test_a_model_with_no_trainable_parameter_is_a_value_error():
    model = torch.nn.Linear(2, 1).requires_grad_(False)
    with pytest.raises(ValueError, match=r"^model has no trainable parameters$"):
        train(model, [(torch.zeros(4, 2), torch.zeros(4, 1))], F.mse_loss, TrainConfig(steps=1), progress=False)


def test_batches_are_converted_to_the_model_dtype():
    model = RNNModel(1, 4, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x, y = delay_task(np.random.default_rng(0))
    history = train(model, [(x, y), (torch.from_numpy(x), torch.from_numpy(y))], F.mse_loss,
                    TrainConfig(steps=None), progress=False)
    assert len(history.losses) == 2


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="optimizer should be one of 'adam', 'sgd', 'adagrad'"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="lr should be a finite number > 0"):
        TrainConfig(lr=-1.0)
    with pytest.raises(ValueError, match="steps should be set"):
        train(fresh_model(), delay_task, F.mse_loss, TrainConfig(steps=None), progress=False)
    with pytest.raises(ValueError, match=r"scalar torch.Tensor \(shape \(\)\), but returned one of shape \(8, 16, 1\)"):
        train(fresh_model(), delay_task, lambda Y, y: (Y - y) ** 2, TrainConfig(steps=1), progress=False)
    with pytest.raises(TypeError, match="loss_fn should return a scalar torch.Tensor, but returned float"):
        train(fresh_model(), delay_task, lambda Y, y: 0.5, TrainConfig(steps=1), progress=False)
    with pytest.raises(ValueError, match="yielded no"):
        train(fresh_model(), [], F.mse_loss, TrainConfig(steps=None), progress=False)
    with pytest.raises(TypeError, match="^model should be a torch.nn.Module, but is str$"):
        train("model", delay_task, F.mse_loss, TrainConfig(steps=1), progress=False)



def test_a_config_device_that_is_no_device_or_not_there_is_named_when_the_config_is_built(monkeypatch):
    with pytest.raises(ValueError, match=r"^device should be None, a torch.device or a device name such as 'cpu', "
                                         r"'cuda' or 'cuda:0', but is 'gpu'$"):
        TrainConfig(device="gpu")
    with pytest.raises(ValueError, match=r"^device should be None, 'cpu' or 'cuda' \(the course's code is tested"):
        TrainConfig(device="meta")
    with pytest.raises(TypeError, match=r"^device should be None, a device name .* but is int 1$"):
        TrainConfig(device=1)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"^device asks for the CUDA device 'cuda', but torch.cuda.is_available\(\)"):
        TrainConfig(device="cuda")
    assert TrainConfig(device="cpu").device == "cpu" and TrainConfig(device=torch.device("cpu")).device.type == "cpu"


def test_a_seed_beyond_torch_manual_seed_is_refused_when_the_config_is_built():
    from rnncourse.torch.training import MAX_SEED

    assert MAX_SEED == 2**64 - 1                  # torch.manual_seed's documented upper bound
    torch.manual_seed(MAX_SEED)
    with pytest.raises((RuntimeError, ValueError)):
        torch.manual_seed(MAX_SEED + 1)           # what train() would hit
    assert TrainConfig(seed=MAX_SEED).seed == MAX_SEED
    with pytest.raises(ValueError, match=rf"^seed should be an integer from 0 to {MAX_SEED}, but is {2**70}$"):
        TrainConfig(seed=2**70)


@pytest.mark.parametrize("progress", ["no", 0, None])
def test_progress_is_true_or_false(progress):
    with pytest.raises(TypeError, match=rf"^progress should be True or False, but is {type(progress).__name__} "):
        train(fresh_model(), delay_task, F.mse_loss, TrainConfig(steps=1), progress=progress)

def test_training_pulls_no_batch_it_does_not_use():
    data = [delay_task(np.random.default_rng(i)) for i in range(5)]
    pulled = []

    def stream():
        for i, batch in enumerate(data):
            pulled.append(i)
            yield batch
    history = train(fresh_model(), stream(), F.mse_loss, TrainConfig(steps=2), progress=False)
    assert len(history.losses) == 2 and pulled == [0, 1]          # was [0, 1, 2]: a third batch lost to the caller


@pytest.mark.parametrize("epochs", [2, 3])
def test_a_one_shot_iterator_cannot_give_more_than_one_epoch(epochs):
    data = [delay_task(np.random.default_rng(1)) for _ in range(3)]
    for one_shot in ((b for b in data), iter(data)):
        with pytest.raises(ValueError, match=rf"^batches is a one-shot iterator \(generator\), used up after one "
                                             rf"epoch, but epochs is {epochs}; pass a list"):
            train(fresh_model(), one_shot, F.mse_loss, TrainConfig(steps=None, epochs=epochs), progress=False)


def test_reversed_numpy_batches_train_like_their_copies():
    x, y = delay_task(np.random.default_rng(2))
    reversed_ = train(fresh_model(), [(x[::-1], y[::-1])] * 2, F.mse_loss, TrainConfig(steps=None), progress=False)
    copied = train(fresh_model(), [(x[::-1].copy(), y[::-1].copy())] * 2, F.mse_loss, TrainConfig(steps=None),
                   progress=False)
    assert reversed_.losses == copied.losses and len(reversed_.losses) == 2


def test_a_batch_that_is_not_an_x_y_pair_is_named():
    x, y = delay_task(np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^batches should yield \(x, y\) pairs, but batch 1 is a tuple of 3 "
                                         r"items"):
        train(fresh_model(), [(x, y), (x, y, y)], F.mse_loss, TrainConfig(steps=None), progress=False)
    with pytest.raises(TypeError, match=r"^batches should yield \(x, y\) pairs, but batch 0 is ndarray"):
        train(fresh_model(), [x, y], F.mse_loss, TrainConfig(steps=None), progress=False)
    with pytest.raises(TypeError, match=r"^batches\(rng\) should return an \(x, y\) pair, but returned ndarray"):
        train(fresh_model(), lambda rng: x, F.mse_loss, TrainConfig(steps=1), progress=False)
    with pytest.raises(ValueError, match=r"^batches\(rng\) should return an \(x, y\) pair, but returned a "
                                         r"tuple of 1 item"):
        train(fresh_model(), lambda rng: (x,), F.mse_loss, TrainConfig(steps=1), progress=False)


@pytest.mark.parametrize("config", [{"steps": 5}, None, 5])
def test_config_must_be_a_train_config(config):
    with pytest.raises(TypeError, match=rf"^config should be a TrainConfig, but is {type(config).__name__}"):
        train(fresh_model(), delay_task, F.mse_loss, config, progress=False)


def test_a_config_dict_gets_the_fix():
    with pytest.raises(TypeError, match=r"build one with TrainConfig\(\*\*config\)"):
        train(fresh_model(), delay_task, F.mse_loss, {"steps": 5}, progress=False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_on_cuda():
    model = fresh_model()
    history = train(model, delay_task, F.mse_loss, TrainConfig(steps=30, device="cuda"), progress=False)
    assert model.rnn.W_xh.device.type == "cuda" and history.losses[-1] < history.losses[0]


def test_module_and_function_have_different_names():
    """``rnncourse.torch.train`` is the function; the module's other names are reachable as attributes."""
    import rnncourse.torch
    import rnncourse.torch.training as training

    assert rnncourse.torch.train is training.train and callable(rnncourse.torch.train)
    assert rnncourse.torch.training is training
    assert rnncourse.torch.training.check_finite_update is training.check_finite_update
    assert training.train_step.__module__ == "rnncourse.torch.training"


@pytest.mark.parametrize("max_norm, error, message", [
    (-1.0, ValueError, r"^max_norm should be a number > 0 or inf \(math\.inf only measures the norm\), but is -1\.0$"),
    (0, ValueError, r"^max_norm should be a number > 0 or inf .*but is 0\.0$"),
    (math.nan, ValueError, r"^max_norm should be a number > 0 or inf .*but is nan$"),
    (None, TypeError, r"^max_norm should be a number, but is NoneType None$"),
])
def test_clip_grad_norm_refuses_a_limit_that_is_not_positive_as_its_numpy_twin_does(max_norm, error, message):
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.tensor([3.0, 4.0])
    with pytest.raises(error, match=message):
        clip_grad_norm([p], max_norm)             # -1 would flip the gradient, nan would skip clipping silently
    assert p.grad.tolist() == [3.0, 4.0]


def test_grad_norm_and_clip_grad_norm_name_an_item_that_is_not_a_tensor():
    with pytest.raises(TypeError, match=r"^grads\[0\] should be a torch\.Tensor, but is NoneType; pass the \.grad of "
                                        r"the parameters that have one$"):
        grad_norm([None])
    with pytest.raises(TypeError, match=r"^params\[0\] should be a torch\.Tensor, but is str; pass "
                                        r"model\.parameters\(\)$"):
        clip_grad_norm({"w": torch.zeros(2)}, 1.0)
