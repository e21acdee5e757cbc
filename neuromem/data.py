"""Data sets: real file loaders and offline sources.

Nothing here downloads. Loaders read standard files from a folder the user
names (MNIST / Fashion-MNIST IDX files), from Debian's ``dataset-fashion-mnist``
package, from the 10,000 real MNIST digits bundled with neuromem, or from
scikit-learn's bundled 8x8 digits. A missing or malformed file raises
:class:`neuromem.errors.FileFormatError` naming the path and what to install or
set.

Example
-------
>>> from neuromem.data import load_fashion_mnist
>>> images, labels = load_fashion_mnist(split="test")  # doctest: +SKIP
>>> images.shape, images.dtype
((10000, 28, 28), dtype('uint8'))
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from neuromem.errors import FileFormatError, ValidationError
from neuromem.resources import resource_path

__all__ = [
    "FASHION_MNIST_ROOT",
    "load_digits",
    "load_fashion_mnist",
    "load_idx",
    "load_mnist",
    "load_mnist10k",
    "stratified_split",
]

#: Where Debian's ``dataset-fashion-mnist`` package installs the IDX files.
FASHION_MNIST_ROOT = Path("/usr/share/datasets/fashion-mnist")

# IDX type codes (third byte of the magic number) -> big-endian numpy dtype.
_IDX_DTYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}

# File stems of the standard distribution; the Debian package keeps them.
_STEMS: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (plain or gzip-compressed) into a numpy array.

    The IDX format: a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then
    ``ndim`` big-endian uint32 dimension sizes, then the data in row-major
    order, big-endian.

    Parameters
    ----------
    path
        File path; a ``.gz`` suffix or the gzip magic bytes select gzip.

    Returns
    -------
    numpy.ndarray
        Array of the file's shape, native byte order (uint8 for image and
        label files).

    Raises
    ------
    FileFormatError
        The file is missing, truncated, has a bad magic number or its size
        does not match its header.
    """
    p = Path(path)
    if not p.is_file():
        raise FileFormatError(f"IDX file '{p}': not found (expected a standard MNIST/Fashion-MNIST IDX file)")
    try:
        raw = p.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise FileFormatError(f"IDX file '{p}': cannot be read or decompressed ({exc})") from exc
    if len(raw) < 4:
        raise FileFormatError(f"IDX file '{p}': {len(raw)} bytes, shorter than the 4-byte magic number")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise FileFormatError(
            f"IDX file '{p}': bad magic number {raw[:4].hex()}; allowed: 0000<type><ndim> with type in "
            f"{sorted(hex(k) for k in _IDX_DTYPES)}"
        )
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    if ndim == 0:
        raise FileFormatError(f"IDX file '{p}': number of dimensions is 0; allowed: 1 or more")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise FileFormatError(f"IDX file '{p}': truncated header ({len(raw)} bytes, need {header})")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise FileFormatError(
            f"IDX file '{p}': data is {len(raw) - header} bytes but header dims {dims} "
            f"of {dtype.str} need {expected} bytes"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=True)


def _find(root: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        candidate = root / name
        if candidate.is_file():
            return candidate
    return None


def _load_pair(root: Path, split: str, what: str, hint: str) -> tuple[np.ndarray, np.ndarray]:
    if split not in _STEMS:
        raise ValidationError(f"{what} loader: split '{split}' is unknown; allowed: 'train', 'test'")
    image_stem, label_stem = _STEMS[split]
    image_path = _find(root, image_stem)
    label_path = _find(root, label_stem)
    if image_path is None or label_path is None:
        missing = image_stem if image_path is None else label_stem
        raise FileFormatError(f"{what}: '{root / missing}[.gz]' not found; {hint}")
    images = load_idx(image_path)
    labels = load_idx(label_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise FileFormatError(
            f"{what}: '{image_path}' holds {images.dtype} of shape {images.shape}; expected uint8 (N, 28, 28)"
        )
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise FileFormatError(
            f"{what}: '{label_path}' holds labels of shape {labels.shape}; expected ({images.shape[0]},)"
        )
    if labels.size and int(labels.max()) > 9:
        raise FileFormatError(f"{what}: '{label_path}' has label {int(labels.max())}; allowed: 0..9")
    return images, labels.astype(np.int64)


def load_fashion_mnist(
    root: str | os.PathLike[str] | None = None, split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Load Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) from IDX files.

    Parameters
    ----------
    root
        Folder holding ``train-images-idx3-ubyte[.gz]`` etc. Default: the
        environment variable ``NEUROMEM_FASHION_MNIST`` or
        ``/usr/share/datasets/fashion-mnist`` (Debian ``dataset-fashion-mnist``).
    split
        ``"train"`` (60,000 images) or ``"test"`` (10,000 images).

    Returns
    -------
    images, labels
        ``uint8`` array (N, 28, 28) of grey levels 0..255 and ``int64`` labels 0..9.
    """
    if root is None:
        root = os.environ.get("NEUROMEM_FASHION_MNIST", str(FASHION_MNIST_ROOT))
    hint = (
        "install the Debian package 'dataset-fashion-mnist' (apt-get install dataset-fashion-mnist), "
        "or pass root= / set NEUROMEM_FASHION_MNIST to a folder with the IDX files"
    )
    return _load_pair(Path(root), split, "Fashion-MNIST", hint)


def load_mnist(root: str | os.PathLike[str], split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST (LeCun, Cortes & Burges) from the standard IDX files in ``root``.

    Parameters
    ----------
    root
        Folder holding ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
        ``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``.
    split
        ``"train"`` or ``"test"``.

    Returns
    -------
    images, labels
        ``uint8`` array (N, 28, 28) and ``int64`` labels 0..9.
    """
    hint = "put the four standard MNIST IDX files there (or use load_mnist10k for 10,000 bundled digits)"
    return _load_pair(Path(root), split, "MNIST", hint)


def _default_mnist10k() -> Path:
    env = os.environ.get("NEUROMEM_MNIST10K")
    if env:
        return Path(env)
    return resource_path("mnist10k") / "mnist10k.npz"


def load_mnist10k(path: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load the 10,000 real MNIST digits bundled with the package.

    The file is ordered by class and has no train/test split; use
    :func:`stratified_split` and say so.

    Parameters
    ----------
    path
        ``.npz`` with ``images`` (N, 28, 28) uint8 and ``labels`` (N,). Default:
        ``$NEUROMEM_MNIST10K`` or the copy bundled with the package
        (:func:`neuromem.resources.resource_path`).

    Returns
    -------
    images, labels
        ``uint8`` (N, 28, 28) and ``int64`` (N,).
    """
    p = Path(path) if path is not None else _default_mnist10k()
    if not p.is_file():
        raise FileFormatError(f"MNIST-10k: '{p}' not found; set NEUROMEM_MNIST10K or pass path= to mnist10k.npz")
    try:
        with np.load(p, allow_pickle=False) as z:
            images = np.asarray(z["images"])
            labels = np.asarray(z["labels"])
    except (OSError, ValueError, KeyError) as exc:
        raise FileFormatError(f"MNIST-10k: '{p}' is not a readable .npz with 'images' and 'labels' ({exc})") from exc
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (images.shape[0],):
        raise FileFormatError(
            f"MNIST-10k: '{p}' has images {images.shape} and labels {labels.shape}; expected (N, 28, 28) and (N,)"
        )
    return images.astype(np.uint8), labels.astype(np.int64)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """Load scikit-learn's bundled 8x8 handwritten digits (1,797 images).

    Returns
    -------
    images, labels
        ``float64`` (1797, 8, 8) grey levels 0..16 and ``int64`` labels 0..9.
    """
    try:
        from sklearn.datasets import load_digits as _sk_digits
    except ImportError as exc:
        raise FileFormatError("digits: scikit-learn is not installed; pip install scikit-learn") from exc
    bunch = _sk_digits()
    return np.asarray(bunch.images, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)


def stratified_split(labels: np.ndarray, test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into train and test sets with the same class proportions.

    Parameters
    ----------
    labels
        Integer class labels, shape (N,).
    test_fraction
        Fraction of each class put in the test set, in (0, 1).
    seed
        Seed of the permutation (``numpy.random.default_rng``).

    Returns
    -------
    train_idx, test_idx
        Sorted ``int64`` index arrays, disjoint, covering all N samples.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValidationError(f"stratified_split: labels have shape {labels.shape}; allowed: 1-D (N,)")
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValidationError(f"stratified_split: test_fraction {test_fraction} is outside the open interval (0, 1)")
    rng = np.random.default_rng(seed)
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_test = round(float(test_fraction) * idx.size)
        # Keep at least one sample of each class on the training side when possible.
        n_test = min(max(n_test, 1 if idx.size > 1 else 0), idx.size - 1 if idx.size > 1 else idx.size)
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)).astype(np.int64), np.sort(np.concatenate(test)).astype(np.int64)
