"""helpers.training.fit: an interrupted run resumes exactly where it stopped."""

import pytest
import torch

from helpers import training
from helpers.errors import BadInputError


def setup(seed: int = 0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    return model, optimiser


def batch(generator):
    x = torch.rand(32, 2, generator=generator)
    return x, (x[:, :1] * x[:, 1:]).sin()


def loss_fn(model, data, step):
    x, y = data
    loss = torch.nn.functional.mse_loss(model(x), y)
    return loss, {"double": 2 * loss.item()}


def test_interrupted_training_resumes_exactly(tmp_path):
    straight_model, straight_opt = setup()
    straight = training.fit(straight_model, straight_opt, batch, loss_fn, 20, tmp_path / "a.pt", every=5)
    assert straight.resumed_from == 0 and straight.steps_run == 20 and len(straight.history) == 20

    model, opt = setup()
    first = training.fit(model, opt, batch, loss_fn, 20, tmp_path / "b.pt", every=5, stop_after=7)
    assert first.steps_run == 7 and (tmp_path / "b.pt").exists()
    model, opt = setup(seed=123)  # a new session starts from other random weights...
    second = training.fit(model, opt, batch, loss_fn, 20, tmp_path / "b.pt", every=5)
    assert second.resumed_from == 7 and second.steps_run == 13  # ...and continues from the checkpoint
    for p, q in zip(model.parameters(), straight_model.parameters(), strict=True):
        assert torch.equal(p, q), "the resumed run must end exactly where the uninterrupted one ends"
    assert second.history["loss"].tolist() == straight.history["loss"].tolist()
    assert second.history["double"].iloc[-1] == pytest.approx(2 * second.history["loss"].iloc[-1])


def test_a_finished_checkpoint_is_loaded_not_retrained(tmp_path):
    model, opt = setup()
    training.fit(model, opt, batch, loss_fn, 10, tmp_path / "c.pt")
    model2, opt2 = setup(seed=5)
    again = training.fit(model2, opt2, batch, loss_fn, 10, tmp_path / "c.pt")
    assert again.steps_run == 0 and again.resumed_from == 10
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), model2.parameters(), strict=True))
    with pytest.raises(BadInputError, match="holds 10 steps, more than the 5 asked for"):
        training.fit(model2, opt2, batch, loss_fn, 5, tmp_path / "c.pt")


def noisy_loss(model, data, step):
    x, y = data
    noisy = x + 0.1 * torch.randn_like(x)  # drawn from torch's global generator, as dropout is
    return torch.nn.functional.mse_loss(model(noisy), y), {}


def test_noise_inside_the_model_resumes_too_and_a_loaded_run_leaves_the_same_random_state(tmp_path):
    model, opt = setup()
    training.fit(model, opt, batch, noisy_loss, 12, tmp_path / "straight.pt", every=4)
    after_training = torch.rand(3)

    model2, opt2 = setup()
    training.fit(model2, opt2, batch, noisy_loss, 12, tmp_path / "resumed.pt", every=4, stop_after=5)
    model2, opt2 = setup(seed=99)
    training.fit(model2, opt2, batch, noisy_loss, 12, tmp_path / "resumed.pt", every=4)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), model2.parameters(), strict=True))

    torch.manual_seed(1234)  # whatever ran before, loading the finished run restores its end state
    model3, opt3 = setup(seed=7)
    training.fit(model3, opt3, batch, noisy_loss, 12, tmp_path / "straight.pt", every=4)
    assert torch.equal(torch.rand(3), after_training)


def test_mixed_precision_is_bfloat16_where_the_gpu_has_it_else_float16(monkeypatch):
    assert training.mixed_precision_dtype("cpu") is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert training.mixed_precision_dtype("cuda") is torch.bfloat16
    assert training.mixed_precision_dtype("cuda", amp=False) is None
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert training.mixed_precision_dtype("cuda") is torch.float16


def test_checkpoint_round_trip_and_atomicity(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    assert training.load_checkpoint(path) is None
    training.save_checkpoint(path, {"step": 3, "weights": torch.arange(4)})
    state = training.load_checkpoint(path)
    assert state["step"] == 3 and state["weights"].tolist() == [0, 1, 2, 3]

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("helpers.runtime.os.replace", crash)  # inside runtime.atomic_path
    with pytest.raises(OSError):
        training.save_checkpoint(path, {"step": 4})
    monkeypatch.undo()
    assert training.load_checkpoint(path)["step"] == 3  # the old checkpoint survived
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # and no temporary file is left


def test_damaged_checkpoint_is_reported(tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(BadInputError, match="delete it to train from scratch"):
        training.load_checkpoint(path)
