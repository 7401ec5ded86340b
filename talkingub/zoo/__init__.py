"""Model implementations; importing this package registers every model (see talkingub.models)."""

import importlib

MODEL_MODULES = (
    "talkingub.zoo.fomm.model",  # fomm
    "talkingub.zoo.head3d",  # head3d
    "talkingub.zoo.lia",  # lia
    "talkingub.zoo.liu_ubkp",  # liu-ubkp
    "talkingub.zoo.liveportrait",  # liveportrait, liveportrait-stitch
    "talkingub.zoo.mraa.model",  # mraa
    "talkingub.zoo.osfv",  # osfv
    "talkingub.zoo.ptus",  # ptus, ptus-no-fbmd, ptus-no-fbmd-lgmd, ptus-no-lgmd
    "talkingub.zoo.tpsmm.model",  # tpsmm
)

for _module in MODEL_MODULES:
    importlib.import_module(_module)
