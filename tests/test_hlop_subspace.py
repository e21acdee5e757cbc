"""The lateral Hebbian/anti-Hebbian circuit finds the principal subspace (HLOP, spec section 2)."""

from __future__ import annotations

import pytest
import torch

from neuromem.errors import ValidationError
from neuromem.models.hlop.subspace import LateralSubspace, principal_angles_deg

torch.set_num_threads(1)

ANGLE_TOL_DEG = 2.0  # stochastic Oja steps leave a small jitter; the gap here is large


def _low_rank(n: int, dim: int, scales: list[float], noise: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    basis, _ = torch.linalg.qr(torch.randn(dim, len(scales), generator=g))
    coeffs = torch.randn(n, len(scales), generator=g) * torch.tensor(scales)
    return coeffs @ basis.T + noise * torch.randn(n, dim, generator=g), basis.T


def _top(x: torch.Tensor, k: int) -> torch.Tensor:
    return torch.linalg.svd(x.double(), full_matrices=False)[2][:k]


def test_lateral_neurons_converge_to_top_principal_subspace_of_the_same_activity() -> None:
    x, _ = _low_rank(2000, 40, [5.0, 4.0, 3.0, 2.0, 1.5], noise=0.05, seed=0)
    sub = LateralSubspace(40, lr=0.2)
    sub.add_neurons(5, torch.Generator().manual_seed(1))
    hist = sub.fit(x, epochs=6, generator=torch.Generator().manual_seed(2), reference=_top(x, 5))
    angles = principal_angles_deg(sub.weight, _top(x, 5))
    assert float(angles.max()) < ANGLE_TOL_DEG
    # Rows become orthonormal (Oja's subspace rule), which makes H^T H a projector.
    torch.testing.assert_close(sub.weight @ sub.weight.T, torch.eye(5), atol=0.02, rtol=0)
    assert hist.reconstruction_error[-1] < hist.reconstruction_error[0]


def test_untrained_lateral_neurons_are_far_from_the_principal_subspace() -> None:
    x, _ = _low_rank(500, 40, [5.0, 4.0, 3.0], noise=0.05, seed=3)
    sub = LateralSubspace(40)
    sub.add_neurons(3, torch.Generator().manual_seed(4))
    assert float(principal_angles_deg(sub.weight, _top(x, 3)).max()) > 45.0


def test_new_neurons_learn_the_residual_subspace_while_old_rows_stay_fixed() -> None:
    x1, b1 = _low_rank(1500, 30, [5.0, 4.0, 3.0], noise=0.02, seed=5)
    x2, b2 = _low_rank(1500, 30, [4.0, 3.0, 2.5], noise=0.02, seed=6)
    sub = LateralSubspace(30, lr=0.2)
    g = torch.Generator().manual_seed(7)
    sub.add_neurons(3, g)
    sub.fit(x1, epochs=6, generator=g)
    sub.consolidate()
    old = sub.weight.clone()
    sub.add_neurons(3, g)
    sub.fit(x2, epochs=6, generator=g)
    torch.testing.assert_close(sub.weight[:3], old, atol=0, rtol=0)
    merged = torch.cat([b1, b2]).double()
    assert float(principal_angles_deg(sub.weight, merged).max()) < ANGLE_TOL_DEG
    resid = x2.double() - (x2.double() @ old.double().T) @ old.double()
    assert float(principal_angles_deg(sub.weight[3:], _top(resid, 3)).max()) < ANGLE_TOL_DEG


def test_spiking_lateral_neurons_with_rate_coded_response_also_converge() -> None:
    x, _ = _low_rank(2000, 40, [5.0, 4.0, 3.0], noise=0.05, seed=8)
    sub = LateralSubspace(40, lr=0.2, spike_scale=20.0, spike_steps=1000)
    sub.add_neurons(3, torch.Generator().manual_seed(9))
    y = sub.response(x[:10])
    assert torch.allclose(y * 50.0, torch.round(y * 50.0), atol=1e-3)  # quantised to 20/1000
    sub.fit(x, epochs=6, generator=torch.Generator().manual_seed(10))
    assert float(principal_angles_deg(sub.weight, _top(x, 3)).max()) < ANGLE_TOL_DEG


def test_add_neurons_never_exceeds_input_size_and_load_state_checks_shape() -> None:
    sub = LateralSubspace(4)
    g = torch.Generator().manual_seed(11)
    sub.add_neurons(3, g)
    sub.add_neurons(3, g)
    assert sub.n_neurons == 4
    torch.testing.assert_close(sub.weight @ sub.weight.T, torch.eye(4), atol=1e-5, rtol=0)
    with pytest.raises(ValidationError, match="n_fixed"):
        sub.load_state(torch.zeros(2, 5), 1)
