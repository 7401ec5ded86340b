"""Built-in weights entries. Add an entry with `register_weights(WeightsSpec(...))`.

Entries are added by the components that need them (metric backends, perceptual losses);
each entry cites where the file comes from.
"""

from __future__ import annotations
