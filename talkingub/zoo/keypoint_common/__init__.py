"""Pieces shared by the keypoint/region-driven warping models FOMM, MRAA and TPSMM.

Hourglass encoder/decoder and its down/up/same/residual blocks, anti-aliased downsampling,
coordinate grids and Gaussian heatmaps, the random affine+TPS transform of the equivariance
losses, the AVD network, relative-motion helpers, the frame-by-frame animation loop and
the training helpers (one optimiser-group step, the lazily built perceptual loss).
"""
