"""Synthetic screencast pictures for recording and replay tests.

``coded_jpeg(n)`` draws the number ``n`` (0..255) as eight black or white bars and
encodes it as JPEG with PyAV; ``read_code(rgb)`` reads the number back from a decoded
picture.  The bars survive JPEG and H.264 compression, so a test can tell exactly
which frame a decoder returned.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt

WIDTH, HEIGHT = 160, 96
BAR = WIDTH // 8


def coded_rgb(n: int, width: int = WIDTH, height: int = HEIGHT) -> npt.NDArray[np.uint8]:
    """An RGB picture showing ``n`` as eight bars (most significant bit on the left)."""
    if not 0 <= n <= 255:
        raise ValueError(f"n must be 0..255, got {n}")
    image = np.zeros((height, width, 3), np.uint8)
    bar = width // 8
    for bit in range(8):
        if n >> (7 - bit) & 1:
            image[:, bit * bar : (bit + 1) * bar] = 255
    return image


def jpeg_of(image: npt.NDArray[np.uint8]) -> bytes:
    """``image`` (RGB) as JPEG bytes, encoded by PyAV's mjpeg encoder."""
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = image.shape[1], image.shape[0]
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuvj420p")
    return b"".join(bytes(p) for p in [*codec.encode(frame), *codec.encode(None)])


def coded_jpeg(n: int, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """The picture of ``n`` as JPEG."""
    return jpeg_of(coded_rgb(n, width, height))


def read_code(image: npt.NDArray[np.uint8]) -> int:
    """The number drawn by ``coded_rgb`` in a (possibly rescaled, lossy) RGB picture."""
    bar = image.shape[1] // 8
    n = 0
    for bit in range(8):
        block = image[:, bit * bar + bar // 4 : (bit + 1) * bar - bar // 4]
        n = n << 1 | int(block.mean() > 128)
    return n
