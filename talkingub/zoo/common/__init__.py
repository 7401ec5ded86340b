"""Building blocks shared by several models (perceptual loss, ...)."""
