"""Sequential recommenders: shared layers, losses, the model contract and the model registry.

Importing this package registers every model (see ``registry.py``)."""

from baselines import models as _models  # noqa: F401,E402  (fills the registry)
from baselines.registry import MODELS, ModelSpec, build_model, get_spec, register  # noqa: F401
