"""Generate the glyphs example: a small image-folder dataset of rendered shapes, no downloads.

Five classes (circle, square, triangle, cross, star), each shape drawn in grey on a dark
background at a random size, position, rotation and stroke width, with pixel noise, in
torchvision's ImageFolder layout::

    data/train/<class>/<n>.png    (120 per class by default)
    data/test/<class>/<n>.png     (40 per class)

Usage: python examples/glyphs/make_glyphs.py [OUT_DIR] [--per-class N] [--size S] [--seed K]
The same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("circle", "cross", "square", "star", "triangle")


def polygon(kind: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if kind == "square":
        corners = [
            (math.cos(angle + math.pi / 4 + k * math.pi / 2), math.sin(angle + math.pi / 4 + k * math.pi / 2))
            for k in range(4)
        ]
    elif kind == "triangle":
        corners = [(math.cos(angle + k * 2 * math.pi / 3), math.sin(angle + k * 2 * math.pi / 3)) for k in range(3)]
    else:  # star: ten points, alternating outer and inner radius
        corners = [
            (
                (1.0 if k % 2 == 0 else 0.45) * math.cos(angle + k * math.pi / 5),
                (1.0 if k % 2 == 0 else 0.45) * math.sin(angle + k * math.pi / 5),
            )
            for k in range(10)
        ]
    return [(cx + r * x, cy + r * y) for x, y in corners]


def draw_glyph(kind: str, size: int, rng: random.Random) -> Image.Image:
    scale = 4  # draw large, then shrink: smooth edges
    big = size * scale
    image = Image.new("L", (big, big), color=rng.randint(0, 40))
    draw = ImageDraw.Draw(image)
    r = rng.uniform(0.22, 0.38) * big
    cx, cy = (rng.uniform(r + 0.05 * big, big - r - 0.05 * big) for _ in range(2))
    angle = rng.uniform(0, 2 * math.pi)
    ink = rng.randint(170, 255)
    width = int(rng.uniform(0.05, 0.1) * big)
    if kind == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=ink, width=width)
    elif kind == "cross":
        for a in (angle, angle + math.pi / 2):
            dx, dy = r * math.cos(a), r * math.sin(a)
            draw.line([(cx - dx, cy - dy), (cx + dx, cy + dy)], fill=ink, width=width)
    else:
        draw.polygon(polygon(kind, cx, cy, r, angle), outline=ink, width=width)
    pixels = np.asarray(image.resize((size, size), Image.Resampling.LANCZOS), dtype=np.float64)
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0.0, 12.0, pixels.shape)
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))


def make_glyphs(
    out: str | Path, *, per_class: int = 120, test_per_class: int = 40, size: int = 28, seed: int = 0
) -> Path:
    """Write the dataset under ``out`` (``train/`` and ``test/``) and return ``out``."""
    out = Path(out)
    rng = random.Random(seed)
    for split, count in (("train", per_class), ("test", test_per_class)):
        for kind in CLASSES:
            folder = out / split / kind
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                draw_glyph(kind, size, rng).save(folder / f"{i:04d}.png", optimize=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(Path(__file__).resolve().parent / "data"))
    parser.add_argument("--per-class", type=int, default=120)
    parser.add_argument("--test-per-class", type=int, default=40)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = make_glyphs(
        args.out, per_class=args.per_class, test_per_class=args.test_per_class, size=args.size, seed=args.seed
    )
    n = len(CLASSES) * (args.per_class + args.test_per_class)
    print(f"wrote {n} images of {len(CLASSES)} classes under {out}/train and {out}/test")


if __name__ == "__main__":
    main()
