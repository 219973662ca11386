"""Shaped text in any of the units' scripts (Latin, Cyrillic, Khmer) drawn with Pillow.

One face does not cover them all: Noto Sans has Latin and Cyrillic (with the Kyrgyz letters
ң ө ү), Noto Sans Khmer has Khmer (both from Debian's ``fonts-noto-core``). ``script_runs``
cuts a string into runs by script and ``Shaper`` draws each run with its face through
Pillow's RAQM layout (HarfBuzz shaping: Khmer coeng subscripts and vowel signs placed, which
the BASIC layout gets wrong), all runs on one baseline. Used by the slip raster
(``hardware/slip_raster.py``) and the ballot renderer (``device/ballots/render.py``).

``Shaper.draw_figures`` sets a number in fixed-width digit cells (right-aligned), so columns of
figures line up with Latin or Khmer digits alike.
"""
from __future__ import annotations

from pathlib import Path

from PIL import ImageDraw, ImageFont, features

NOTO_DIR = Path("/usr/share/fonts/truetype/noto")
FACES = {("latin", False): "NotoSans-Regular.ttf", ("latin", True): "NotoSans-Bold.ttf",
         ("khmer", False): "NotoSansKhmer-Regular.ttf", ("khmer", True): "NotoSansKhmer-Bold.ttf"}
KHMER_RANGES = ((0x1780, 0x17FF), (0x19E0, 0x19FF))
DIGITS = "0123456789០១២៣៤៥៦៧៨៩"
NUMBER_SIGNS = ",.\u00a0\u202f '-+%"  # group and decimal separators a locale may put in a number


class FontMissing(RuntimeError):
    """A face or the RAQM layout is missing on this machine; the message says what to install."""


def script_of(ch: str) -> str | None:
    """``khmer`` or ``latin`` (Latin, Cyrillic, ...); None for spaces, which join either run."""
    if ch.isspace():
        return None
    code = ord(ch)
    return "khmer" if any(lo <= code <= hi for lo, hi in KHMER_RANGES) else "latin"


def script_runs(text: str) -> list[tuple[str, str]]:
    """``text`` cut into (script, run) pairs; spaces stay in the run they follow."""
    runs: list[list[str]] = []
    for ch in text:
        script = script_of(ch)
        if runs and (script is None or script == runs[-1][0]):
            runs[-1][1] += ch
        elif script is None:
            runs.append(["latin", ch])
        else:
            runs.append([script, ch])
    return [(s, t) for s, t in runs]


class Shaper:
    """Faces at pixel sizes, cached; measures and draws mixed-script text with RAQM."""

    def __init__(self, layout=ImageFont.Layout.RAQM) -> None:
        if layout == ImageFont.Layout.RAQM and not features.check("raqm"):
            raise FontMissing("Pillow was built without libraqm: complex scripts cannot be shaped")
        self.layout = layout
        self._fonts: dict[tuple[str, bool, int], ImageFont.FreeTypeFont] = {}

    def font(self, script: str, bold: bool, size: int) -> ImageFont.FreeTypeFont:
        key = (script, bold, size)
        if key not in self._fonts:
            path = NOTO_DIR / FACES[(script, bold)]
            if not path.exists():
                raise FontMissing(f"font {path} is missing: install the Debian package "
                                  "fonts-noto-core (apt-get install fonts-noto-core)")
            self._fonts[key] = ImageFont.truetype(str(path), size, layout_engine=self.layout)
        return self._fonts[key]

    def width(self, text: str, size: int, bold: bool = False) -> float:
        return sum(self.font(s, bold, size).getlength(run) for s, run in script_runs(text))

    def line_height(self, size: int) -> int:
        """Room for one line of any script: Khmer stacks subscripts below the baseline."""
        return round(size * 1.75)

    def ascent(self, size: int) -> int:
        return round(size * 1.15)

    def draw(self, draw: ImageDraw.ImageDraw, x: float, baseline: float, text: str, size: int,
             bold: bool = False, fill: int = 0) -> float:
        """Draw ``text`` with its baseline at ``baseline``; return the x after it."""
        for script, run in script_runs(text):
            font = self.font(script, bold, size)
            draw.text((x, baseline), run, font=font, fill=fill, anchor="ls")
            x += font.getlength(run)
        return x

    def figure_cell(self, size: int, bold: bool = False, script: str = "latin") -> float:
        """The widest digit of ``script``: every digit of a figure gets this much room."""
        digits = DIGITS[10:] if script == "khmer" else DIGITS[:10]
        return max(self.font(script, bold, size).getlength(d) for d in digits)

    def _cell_for(self, text: str, size: int, bold: bool) -> float:
        khmer = any(script_of(ch) == "khmer" for ch in text if ch in DIGITS)
        return self.figure_cell(size, bold, "khmer" if khmer else "latin")

    @staticmethod
    def is_number(text: str) -> bool:
        return any(ch in DIGITS for ch in text) and all(ch in DIGITS or ch in NUMBER_SIGNS for ch in text)

    def figures_width(self, text: str, size: int, bold: bool = False) -> float:
        if not self.is_number(text):
            return self.width(text, size, bold)
        cell = self._cell_for(text, size, bold)
        return sum(cell if ch in DIGITS else self.width(ch, size, bold) for ch in text)

    def draw_figures(self, draw: ImageDraw.ImageDraw, right: float, baseline: float, text: str,
                     size: int, bold: bool = False, fill: int = 0) -> None:
        """Draw a number ending at ``right``, each digit centred in a cell of one width (any
        other value, such as a hash, is drawn as it is, ending at ``right``)."""
        if not self.is_number(text):
            self.draw(draw, right - self.width(text, size, bold), baseline, text, size, bold, fill)
            return
        cell = self._cell_for(text, size, bold)
        x = right - self.figures_width(text, size, bold)
        for ch in text:
            if ch in DIGITS:
                font = self.font(script_of(ch) or "latin", bold, size)  # a digit has a script
                draw.text((x + (cell - font.getlength(ch)) / 2, baseline), ch, font=font, fill=fill,
                          anchor="ls")
                x += cell
            else:
                x = self.draw(draw, x, baseline, ch, size, bold, fill)
