"""Orthogonal projection: updates for a new task leave old tasks' outputs unchanged to first order."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from neuromem.errors import ValidationError
from neuromem.models.hlop.learner import TrainConfig
from neuromem.models.hlop.network import NetworkConfig, SignedWeights
from neuromem.models.hlop.projection import HLOPConfig, HLOPLearner, project_gradient, project_out
from neuromem.models.hlop.subspace import LateralSubspace

torch.set_num_threads(1)

# ||dW x_old|| relative to the unprojected update's ||G x_old||: the residual comes
# from the 0.01 noise off the old subspace and the Hebbian rows' small error.
FIRST_ORDER_TOL = 0.05


def _fitted(activity: torch.Tensor, k: int, seed: int) -> LateralSubspace:
    sub = LateralSubspace(activity.shape[1], lr=0.2)
    g = torch.Generator().manual_seed(seed)
    sub.add_neurons(k, g)
    sub.fit(activity, epochs=8, generator=g)
    return sub


def test_projected_linear_update_leaves_old_currents_unchanged_to_first_order() -> None:
    g = torch.Generator().manual_seed(0)
    basis, _ = torch.linalg.qr(torch.randn(50, 4, generator=g))
    x_old = torch.randn(1000, 4, generator=g) @ basis.T + 0.01 * torch.randn(1000, 50, generator=g)
    sub = _fitted(x_old, 4, seed=1)
    layer = SignedWeights(50, 20)
    x_new = torch.rand(64, 50, generator=g)
    F.linear(x_new, layer.weight).pow(2).sum().backward()
    unprojected = layer.weight.grad.clone()
    project_gradient(layer, sub.weight)
    change = (x_old @ layer.weight.grad.T).norm() / (x_old @ unprojected.T).norm()
    assert float(change) < FIRST_ORDER_TOL
    # The update itself is not trivially zero: new inputs still learn.
    assert float(layer.weight.grad.norm() / unprojected.norm()) > 0.5


def test_projecting_the_gradient_equals_projecting_the_presynaptic_inputs() -> None:
    g = torch.Generator().manual_seed(2)
    basis = torch.linalg.qr(torch.randn(30, 6, generator=g))[0].T
    x = torch.rand(16, 30, generator=g)
    delta = torch.randn(16, 8, generator=g)
    w1 = torch.randn(8, 30, generator=g, requires_grad=True)
    (F.linear(x, w1) * delta).sum().backward()
    layer = SignedWeights(30, 8)
    layer.weight.grad = w1.grad.clone()
    project_gradient(layer, basis)
    via_inputs = delta.T @ project_out(x, basis)
    torch.testing.assert_close(layer.weight.grad, via_inputs, atol=1e-5, rtol=1e-5)


def _separable_tasks(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    # Task 0 uses pixels 0..31, task 1 pixels 32..63: disjoint input subspaces.
    protos = torch.rand(2, 4, 32, generator=g)
    y0 = torch.randint(0, 4, (400,), generator=g)
    y1 = torch.randint(0, 4, (400,), generator=g)
    x0 = torch.zeros(400, 64)
    x1 = torch.zeros(400, 64)
    x0[:, :32] = (protos[0][y0] + 0.1 * torch.rand(400, 32, generator=g)).clamp(0, 1)
    x1[:, 32:] = (protos[1][y1] + 0.1 * torch.rand(400, 32, generator=g)).clamp(0, 1)
    return x0, y0, x1, y1


def test_hlop_learner_training_a_new_task_keeps_old_task_logits_nearly_unchanged() -> None:
    x0, y0, x1, y1 = _separable_tasks(5)
    net = NetworkConfig(input_shape=(64,), hidden=(32,), n_classes=4, num_steps=3, threshold=0.5)
    train = TrainConfig(epochs=3, batch_size=32, lr=0.05, seed=6)
    hlop = HLOPConfig(first=(30, 20), per_task=(4,), decrease=(0,), epochs=15, samples=400)
    learner = HLOPLearner(net, train, hlop)
    learner.train_task(0, x0, y0)
    with torch.no_grad():
        before = learner.net(x0, head=0)
    learner.train_task(1, x1, y1)
    with torch.no_grad():
        after = learner.net(x0, head=0)
    assert float((after - before).abs().mean() / before.abs().mean()) < 0.05
    assert learner.evaluate(1, x1, y1) > 0.6
    # The projection used the lateral weights of the description: H = W_exc - W_inh of each lateral pair.
    description = learner.description()
    for name in ("layer0", "head0"):
        h = torch.zeros_like(learner.basis(name), dtype=torch.float64)
        for receptor, sign in (("exc", 1.0), ("inh", -1.0)):
            lst = description.connection_list(f"lateral_{name}_{receptor}")
            h[lst.post, lst.pre] += sign * torch.as_tensor(lst.weight.copy())
        torch.testing.assert_close(h.float(), learner.basis(name), atol=0, rtol=0)
        assert description.projection(f"lateral_{name}_exc").plasticity == hlop.rule()
    # 30 after task 0, then max(per_task 4, min_per_task 5) = 5 more after task 1
    assert description.population("lateral_layer0").size == 35


def test_projection_before_any_subspace_exists_is_refused_and_changes_nothing() -> None:
    learner = HLOPLearner(NetworkConfig(input_shape=(16,), hidden=(8,), n_classes=2), TrainConfig(), HLOPConfig())
    w = learner.net.layers[0].weight.detach().clone()
    with pytest.raises(ValidationError, match="layer 'layer0' has no subspace yet"):
        learner.project("layer0", torch.rand(3, 16))
    with pytest.raises(ValidationError, match="layer 'nope' is unknown"):
        learner.project("nope", torch.rand(3, 16))
    torch.testing.assert_close(learner.net.layers[0].weight, w, atol=0, rtol=0)
