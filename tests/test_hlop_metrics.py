"""ACC and BWT exactly as the HLOP spec (section 4) defines them."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.errors import ValidationError
from neuromem.models.hlop.metrics import acc, bwt, mean_std


def test_acc_and_bwt_of_a_known_accuracy_matrix() -> None:
    R = np.array([[0.90, np.nan, np.nan], [0.80, 0.85, np.nan], [0.70, 0.80, 0.95]])
    assert acc(R) == pytest.approx((0.70 + 0.80 + 0.95) / 3, abs=1e-12)
    assert bwt(R) == pytest.approx(((0.70 - 0.90) + (0.80 - 0.85)) / 2, abs=1e-12)


def test_no_forgetting_gives_zero_bwt_and_one_task_gives_zero() -> None:
    R = np.tril(np.full((4, 4), 0.9))
    assert bwt(R) == pytest.approx(0.0, abs=1e-12)
    assert bwt(np.array([[0.5]])) == 0.0


def test_metrics_reject_non_square_or_missing_entries() -> None:
    with pytest.raises(ValidationError, match="square"):
        acc(np.zeros((2, 3)))
    with pytest.raises(ValidationError, match="NaN"):
        bwt(np.array([[0.9, np.nan], [np.nan, 0.8]]))


def test_mean_std_uses_sample_standard_deviation() -> None:
    m, s = mean_std([1.0, 2.0, 3.0])
    assert (m, s) == (pytest.approx(2.0), pytest.approx(1.0))
    assert mean_std([4.0]) == (4.0, 0.0)
