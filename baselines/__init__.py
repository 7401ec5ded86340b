"""Model implementations; importing this package registers every model (see talkingub.models)."""

import baselines.fomm.model  # noqa: F401 - registers "fomm"
import baselines.lia  # registers "lia"
import baselines.mraa.model  # noqa: F401 - registers "mraa"
import baselines.osfv  # registers "osfv"
import baselines.ptus  # registers "ptus", "ptus-no-fbmd", "ptus-no-lgmd"
import baselines.tpsmm.model  # noqa: F401 - registers "tpsmm"
