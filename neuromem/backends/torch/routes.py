r"""Per-projection propagation of the differentiable module: one (pre, post) matrix per projection.

The simulation merges every static projection into one (n_total, channels)
matrix per delay (:mod:`neuromem.backends.torch.synapses`), which is what
makes its spikes and voltages reproducible bit for bit; most of that matrix
is zero for a layered network (input -> readout blocks), and both halves of
each excitatory/inhibitory pair are multiplied. The module's
``propagation="projection"`` mode multiplies instead each presynaptic
population's spikes by the matrix of each of its projections only:

* a *route* is one projection's synapses of one delay value, as a
  (n_pre, n_post) matrix built from the projection's weight vector (a view of
  it for an all-to-all, pre-major projection: no copy, no scatter);
* projections that share pre, post and delay and end on a cell type whose
  step reads its receptors only as ``input_exc - input_inh``
  (:data:`DIFFERENCE_CELLS`) are fused into one signed matrix
  ``sum W_exc - sum W_inh`` delivered on the excitatory channel: the same
  input up to the order of float additions;
* a route whose presynaptic population is silent at a step (a source
  after its last event, a layer the input has not reached yet:
  :mod:`neuromem.backends.torch.projection`) is skipped: it would add zeros
  and pass no gradient.

The sums equal the merged matrix's up to float rounding (not bit for bit);
the gradients are the same functions of the weights.

Online training (:meth:`Routes.send` with ``traces``): the weight gradient of
each route is taken with the presynaptic eligibility trace
:math:`\hat a_t = \lambda \hat a_{t-1} + s_t` in place of the spikes
(:class:`TracedMatmul`); the forward value is the spikes' product.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from neuromem.backends.torch.layout import Layout
from neuromem.errors import ValidationError
from neuromem.spec import Network

#: Cell types whose step adds ``input_exc - input_inh`` and reads the receptors nowhere else, so an
#: excitatory/inhibitory pair can be delivered as one signed input (IF_curr_exp and IF_cond_exp
#: filter the receptors separately and are not fused).
DIFFERENCE_CELLS = frozenset({"IF_curr_delta"})


@dataclass(frozen=True)
class Piece:
    """One projection's synapses of one delay within a route.

    ``positions`` index the projection's weight vector; ``rows``/``cols`` are
    pre/post indices within the populations; ``full`` marks an all-to-all,
    pre-major projection whose weight vector is the (n_pre, n_post) matrix itself.
    """

    projection: str
    sign: float
    positions: torch.Tensor
    rows: torch.Tensor
    cols: torch.Tensor
    full: bool


@dataclass(frozen=True)
class Route:
    """Input from ``pre`` to ``post``'s ``receptor`` channel, ``delay`` steps later."""

    pre: str
    post: str
    receptor: str
    delay: int
    shape: tuple[int, int]
    pieces: tuple[Piece, ...]


class TracedMatmul(torch.autograd.Function):
    """``spikes @ matrix`` whose gradient w.r.t. the matrix uses the presynaptic trace.

    Backward: ``d/d spikes = grad @ matrix^T`` (the spatial path of the step),
    ``d/d matrix = trace^T @ grad`` (the online rule's eligibility trace in place of the spikes).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, spikes: torch.Tensor, trace: torch.Tensor, matrix: torch.Tensor
    ) -> torch.Tensor:
        ctx.save_for_backward(trace, matrix)
        return spikes @ matrix

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor
    ) -> tuple[torch.Tensor | None, None, torch.Tensor | None]:
        trace, matrix = ctx.saved_tensors  # type: ignore[attr-defined]
        grad_spikes = grad @ matrix.T if ctx.needs_input_grad[0] else None  # type: ignore[attr-defined]
        grad_matrix = trace.T @ grad if ctx.needs_input_grad[2] else None  # type: ignore[attr-defined]
        return grad_spikes, None, grad_matrix


class Routes:
    """The static projections of a network as per-projection routes (see the module docstring)."""

    def __init__(self, network: Network, layout: Layout, dt: float, device: torch.device) -> None:
        self.layout = layout
        cell_of = {p.name: type(p.cell).__name__ for p in network.populations}
        grouped: dict[tuple[str, str, str, int], list[Piece]] = {}
        for projection in network.projections:
            if projection.is_plastic:
                continue
            lst = network.connection_list(projection.name)
            delay = np.asarray(network.delay_steps(projection.name, dt), dtype=np.int64)
            delay = np.broadcast_to(delay, lst.pre.shape)
            n_pre, n_post = layout.sizes[projection.pre], layout.sizes[projection.post]
            fused = cell_of[projection.post] in DIFFERENCE_CELLS
            receptor = "excitatory" if fused else projection.receptor
            sign = -1.0 if fused and projection.receptor == "inhibitory" else 1.0
            for d in sorted(set(delay.tolist())):
                keep = np.nonzero(delay == d)[0]
                rows, cols = lst.pre[keep], lst.post[keep]
                full = keep.size == n_pre * n_post and bool(
                    np.array_equal(rows * n_post + cols, np.arange(n_pre * n_post))
                )
                piece = Piece(
                    projection.name,
                    sign,
                    *(torch.as_tensor(a, dtype=torch.int64, device=device) for a in (keep, rows, cols)),
                    full,
                )
                # Fused pieces group by (pre, post, delay); any other projection is a route of its own.
                key = (
                    (projection.pre, projection.post, receptor, int(d)) if fused else (projection.name, "", "", int(d))
                )
                grouped.setdefault(key, []).append(piece)
        self.routes: list[Route] = []
        for key, pieces in grouped.items():
            if key[1]:
                pre, post, receptor, d = key
            else:
                projection = network.projection(key[0])
                pre, post, receptor, d = projection.pre, projection.post, projection.receptor, key[3]
            shape = (layout.sizes[pre], layout.sizes[post])
            self.routes.append(Route(pre, post, receptor, d, shape, tuple(pieces)))
        self.max_delay = max((r.delay for r in self.routes), default=1)

    def matrices(
        self, weights: dict[str, torch.Tensor], given: Mapping[tuple[str, str], torch.Tensor] | None = None
    ) -> list[torch.Tensor]:
        """Per route, its (n_pre, n_post) matrix from the projections' weight vectors (keeps the graph).

        ``given`` maps ``(pre, post)`` to a matrix used as it is for the one
        route from ``pre`` to ``post`` (e.g. a layer's signed weights for its
        fused pair: no split into halves and sum back).

        Raises
        ------
        ValidationError
            A given pair that is not exactly one route, or a matrix of another shape.
        """
        given = dict(given or {})
        routes_of: dict[tuple[str, str], list[Route]] = {}
        for route in self.routes:
            routes_of.setdefault((route.pre, route.post), []).append(route)
        for key, matrix in given.items():
            found = routes_of.get(key, [])  # type: ignore[call-overload]
            if len(found) != 1 or tuple(matrix.shape) != found[0].shape:
                raise ValidationError(
                    f"module: matrices[{key!r}] of shape {tuple(matrix.shape)} is not allowed; allowed: a (pre, post)"
                    " pair whose projections form one route (one delay; an excitatory/inhibitory pair fused onto"
                    f" {sorted(DIFFERENCE_CELLS)}), shape (n_pre, n_post) = "
                    f"{found[0].shape if len(found) == 1 else 'one route'}"
                )
        result = []
        for route in self.routes:
            if (route.pre, route.post) in given:
                result.append(given[(route.pre, route.post)])
                continue
            total: torch.Tensor | None = None
            for piece in route.pieces:
                w = weights[piece.projection]
                if piece.full:
                    part = w.view(route.shape)
                else:
                    part = torch.zeros(route.shape, dtype=w.dtype, device=w.device).index_put(
                        (piece.rows, piece.cols), w[piece.positions], accumulate=True
                    )
                if total is None:
                    total = part if piece.sign > 0 else -part
                else:
                    total = total + part if piece.sign > 0 else total - part
            result.append(total)  # type: ignore[arg-type]
        return result

    def send(
        self,
        emitted: dict[str, torch.Tensor | None],
        matrices: list[torch.Tensor],
        tick: int,
        pending: dict[int, dict[tuple[str, str], torch.Tensor]],
        traces: dict[str, torch.Tensor] | None = None,
        horizon: int | None = None,
    ) -> None:
        """Add the input of the spikes ``emitted`` at ``tick`` to ``pending``.

        ``emitted``: population -> (batch, n) spikes, or None where it is silent;
        nothing is sent that would arrive at or after tick ``horizon`` (the end of a run).

        ``pending[tick'][(post, receptor)]`` is what arrives at ``tick'``
        (replaced, not added into, so autograd keeps every term). With
        ``traces`` (route index -> (batch, n_pre)), a route's weight gradient uses its trace.
        """
        for index, (route, matrix) in enumerate(zip(self.routes, matrices)):
            spikes = emitted[route.pre]
            if spikes is None or (horizon is not None and tick + route.delay >= horizon):
                continue
            if traces is not None and index in traces:
                value = TracedMatmul.apply(spikes, traces[index], matrix)
            else:
                value = spikes @ matrix
            slot = pending.setdefault(tick + route.delay, {})
            key = (route.post, route.receptor)
            slot[key] = value if key not in slot else slot[key] + value
