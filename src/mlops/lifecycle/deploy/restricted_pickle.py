"""A pickle loader for bundles no store vouches for (`--trust-unverified`).

`pickle` builds objects by calling whatever `module.name` the stream asks for, so a crafted
model.pkl runs code. `RestrictedUnpickler.find_class` is the only way a pickle stream reaches
a callable; it refuses everything outside an allow-list fixed here, in code (never read from
the bundle), before the module is even imported:

- builtins: `slice`, `set`, `frozenset`, `complex`, `bytearray` (plain containers);
- numpy: `ndarray`, `dtype`, the array and scalar reconstructors, scalar types
  (`numpy.float64`...), `numpy.dtypes.*DType`, and the random generators' pickle helpers;
- scipy: the sparse matrix and array classes of `scipy.sparse`;
- scikit-learn: classes defined in `sklearn.*` that are estimators (`BaseEstimator`
  subclasses), plus the fitted internals their state holds: `sklearn.tree._tree.Tree`, the
  histogram gradient boosting `TreePredictor`, and the loss and link classes of
  `sklearn._loss`.

Only classes are allowed from scikit-learn and scipy, never functions; a class is allowed
only from the module that defines it (no re-exports). Everything else (`os.system`,
`builtins.eval`, `subprocess.Popen`, `getattr`, functions of scikit-learn, other libraries
such as LightGBM) is refused with exit 3.
"""

from __future__ import annotations

import importlib
import io
import pickle
from typing import Any

from mlops.errors import StoreIntegrityError

_EXACT = {
    ("builtins", "slice"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "complex"),
    ("builtins", "bytearray"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._mt19937", "MT19937"),
    ("numpy.random._pcg64", "PCG64"),
    ("numpy.random._pcg64", "PCG64DXSM"),
    ("numpy.random._philox", "Philox"),
    ("numpy.random._sfc64", "SFC64"),
    ("numpy.random.bit_generator", "SeedSequence"),
    ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
    ("sklearn.tree._tree", "Tree"),
    ("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor"),
}
_SKLEARN_INTERNAL_MODULES = ("sklearn._loss.loss", "sklearn._loss._loss", "sklearn._loss.link")


def _refuse(module: str, name: str) -> StoreIntegrityError:
    return StoreIntegrityError(
        f"model.pkl asks for {module}.{name}, which the restricted loader does not allow",
        hint="only scikit-learn, numpy and scipy types load unverified; get the package from "
        "the store that built it (`mlops pull`, or `--store`) to load it fully",
    )


def _is_class_from(obj: Any, module: str) -> bool:
    return isinstance(obj, type) and obj.__module__ == module


def allowed(module: str, name: str) -> Any | None:
    """The object `module.name` if the allow-list admits it, else None. Modules outside
    builtins, numpy, scipy.sparse and sklearn are refused before they are imported."""
    if "." in name or (name.startswith("__") and (module, name) not in _EXACT):
        return None
    top = module.split(".")[0]
    if top not in ("builtins", "numpy", "scipy", "sklearn"):
        return None
    if top == "scipy" and not module.startswith("scipy.sparse"):
        return None
    if top == "builtins" and (module, name) not in _EXACT:
        return None
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    if (module, name) in _EXACT:
        return obj
    if top == "numpy":
        import numpy as np

        if module == "numpy" and isinstance(obj, type) and issubclass(obj, np.generic):
            return obj
        if module == "numpy.dtypes" and isinstance(obj, type) and issubclass(obj, np.dtype):
            return obj
        return None
    if top == "scipy":
        from scipy import sparse

        sparse_types = (sparse.spmatrix, sparse.sparray)
        if isinstance(obj, type) and issubclass(obj, sparse_types) and obj.__module__ == module:
            return obj
        return None
    from sklearn.base import BaseEstimator

    if not _is_class_from(obj, module):
        return None
    if issubclass(obj, BaseEstimator) or module in _SKLEARN_INTERNAL_MODULES:
        return obj
    return None


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only the allow-listed types; anything else raises StoreIntegrityError."""

    def find_class(self, module: str, name: str) -> Any:
        obj = allowed(module, name)
        if obj is None:
            raise _refuse(module, name)
        return obj

    def persistent_load(self, pid: Any) -> Any:
        raise StoreIntegrityError("model.pkl uses persistent ids, which packages never hold")


def restricted_loads(data: bytes) -> Any:
    """Unpickle bytes through RestrictedUnpickler.

    Raises:
        StoreIntegrityError: the pickle names a type outside the allow-list (nothing of it is
            called), or it is malformed.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data)).load()
    except StoreIntegrityError:
        raise
    except Exception as e:
        raise StoreIntegrityError(
            f"model.pkl cannot be loaded by the restricted loader: {type(e).__name__}: {e}"
        ) from None
