"""Model implementations; importing this package registers every model (see talkingub.models)."""

import importlib

MODEL_MODULES = (
    "baselines.fomm.model",  # fomm
    "baselines.lia",  # lia
    "baselines.mraa.model",  # mraa
    "baselines.osfv",  # osfv
    "baselines.ptus",  # ptus, ptus-no-fbmd, ptus-no-lgmd
    "baselines.tpsmm.model",  # tpsmm
)

for _module in MODEL_MODULES:
    importlib.import_module(_module)
