"""The rule files shipped with the package (seccomp_jail/presets/*.toml).

A preset is an ordinary, commented rule file; its first line is a comment
that describes it in one line. `seccomp-jail rules new --preset NAME` copies
one to start from, and `--rules NAME` runs under one directly.
"""

from __future__ import annotations

from pathlib import Path

from seccomp_jail.message import Message, MessageError, with_hint
from seccomp_jail.policy.errors import did_you_mean

PRESET_DIR = Path(__file__).resolve().parent.parent / "presets"
SUFFIX = ".toml"


class UnknownPreset(MessageError, KeyError):
    """No preset of that name; the message names the presets there are."""

    def __init__(self, name: str) -> None:
        names = [n for n, _ in list_presets()]
        self.name = name
        self.hint = did_you_mean(name, names) or Message("presets: {names}", names=", ".join(names))
        super().__init__(with_hint(Message("no preset {name}", name=repr(name)), self.hint))


def list_presets() -> list[tuple[str, str]]:
    """(name, one-line description) of every preset, by name."""
    return [(path.stem, _description(path)) for path in sorted(PRESET_DIR.glob("*" + SUFFIX))]


def preset_path(name: str) -> Path:
    """The file of preset `name`; raises UnknownPreset."""
    path = PRESET_DIR / (name + SUFFIX)
    # A name is a bare word: no way out of the preset directory.
    if "/" in name or name.startswith(".") or not path.is_file():
        raise UnknownPreset(name)
    return path


def preset_text(name: str) -> str:
    """The rule file of preset `name`, as shipped; raises UnknownPreset."""
    return preset_path(name).read_text(encoding="utf-8")


def _description(path: Path) -> str:
    with path.open(encoding="utf-8") as f:
        first = f.readline()
    return first.removeprefix("#").strip().removesuffix(".")
