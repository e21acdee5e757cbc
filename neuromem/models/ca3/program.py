"""The CA3 memory with a program of operations built in: what a model file for ``neuromem run`` describes.

A model file names the builder ``ca3`` and lists the operations its ``IN``
population plays (tables with ``kind``, ``address``, ``content`` and an
optional ``t0`` in ms); operations without ``t0`` start as early as the
parameter set's spacing allows. Without ``operations`` the memory runs
:func:`default_program`, so a plain ``neuromem run`` shows it storing and
recalling. Example (``models/ca3_model.toml``)::

    [model]
    builder = "ca3"
    n = 5
    m = 10
    operations = [
        { kind = "store", address = 0, content = [0, 1, 8, 9] },
        { kind = "recall_by_address", address = 0 },
        { kind = "recall_by_content", content = [8] },
    ]

Example
-------
>>> net = program_network(4, 6, operations=[{"kind": "store", "address": 1, "content": [2, 3]}])
>>> net.population("IN").cell.spike_lists()[1]
[0.0, 1.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from neuromem.errors import ValidationError
from neuromem.models.ca3.network import build_network
from neuromem.models.ca3.params import CA3Params, load_params
from neuromem.models.ca3.protocol import Operation, check_operation, check_schedule, encode, schedule
from neuromem.spec import Network, checks

#: Keys an operation table of a model file may hold.
OPERATION_KEYS = ("kind", "address", "content", "t0")


def default_program(n: int, m: int) -> list[Operation]:
    """Store three small contents (fewer when n is smaller), recall each by address, then one bit by content.

    Address a (a < min(n, 3)) holds bits a, a + 1 and a + 3 (mod m, distinct);
    the last recall asks for bit 1, which addresses 0 and 1 share when m >= 4.
    """
    stores = []
    for address in range(min(n, 3)):
        bits = sorted({address % m, (address + 1) % m, (address + 3) % m})
        stores.append(Operation.store(address, bits))
    recalls = [Operation.recall_by_address(op.address) for op in stores]  # type: ignore[arg-type]
    return [*stores, *recalls, Operation.recall_by_content([1 % m])]


def operations_from_tables(tables: Sequence[Mapping[str, object]], n: int, m: int) -> list[Operation]:
    """Operations from a model file's tables, checked against the memory's size (n addresses, m bits)."""
    if isinstance(tables, (str, bytes, Mapping)) or not isinstance(tables, Sequence):
        raise ValidationError(f"CA3 program: operations = {tables!r} must be a list of tables")
    operations = []
    for k, table in enumerate(tables):
        where = f"CA3 program: operation {k}"
        if not isinstance(table, Mapping):
            raise ValidationError(f"{where} = {table!r} must be a table with keys {', '.join(OPERATION_KEYS)}")
        unknown = sorted(set(table) - set(OPERATION_KEYS))
        if unknown:
            raise ValidationError(f"{where}: unknown keys {unknown}; allowed: {', '.join(OPERATION_KEYS)}")
        kind = table.get("kind")
        if kind == "store" and "content" not in table:
            raise ValidationError(f"{where}: a store needs content (its bit indices)")
        try:
            op = Operation(kind, table.get("t0"), table.get("address"), table.get("content", ()))  # type: ignore[arg-type]
            check_operation(op, n, m)
        except ValidationError as error:
            raise ValidationError(f"{where}: {error}") from None
        operations.append(op)
    return operations


def program_network(
    n: int,
    m: int,
    params: CA3Params | str | None = None,
    operations: Sequence[Mapping[str, object]] | None = None,
    name: str = "ca3",
) -> Network:
    """The CA3 memory (every LIF population probed) whose ``IN`` plays ``operations``.

    Parameters
    ----------
    n, m : int
        Addresses and content bits.
    params : CA3Params or str, optional
        Parameter set or its name; default ``"spinnaker"``.
    operations : sequence of tables, optional
        ``{kind, address, content, t0}`` each (t0 in ms, optional); default :func:`default_program`.
    name : str
        Network label.
    """
    n = checks.count("CA3 network", "n", n)
    m = checks.count("CA3 network", "m", m)
    params = load_params(params) if isinstance(params, str) else (params or load_params())
    ops = default_program(n, m) if operations is None else operations_from_tables(operations, n, m)
    placed = schedule(ops, params.timing)
    check_schedule(placed, n, m, params.timing)  # given t0s must keep the memory's spacing too
    return build_network(n, m, params, inputs=encode(placed, n, m, params.timing, params.dt_ms), name=name)


__all__ = ["OPERATION_KEYS", "default_program", "operations_from_tables", "program_network"]
