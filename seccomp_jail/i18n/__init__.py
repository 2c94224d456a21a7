"""The language of what seccomp-jail says to people: English, or Chinese
where the locale asks for it (LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as
gettext reads them).

Translations are gettext .po files next to this module (msgid: the English
text), the format translators' tools read and write. They are read as
they are, not compiled: a .mo file would be a build output, and gettext
reads nothing else. Logs, rule files and machine-readable output are never
translated: scripts read them.
"""

from __future__ import annotations

import os

# Language prefix of a locale name -> its catalog, a .po file in this folder.
CATALOGS = {"zh": "zh_CN.po"}
_catalog: dict[str, str] | None = None


def language(environ: dict[str, str] | None = None) -> str:
    """'zh' or 'en' from the locale variables, in gettext's order: LANGUAGE
    (a colon list) unless the locale is C/POSIX, then LC_ALL, LC_MESSAGES, LANG."""
    env = os.environ if environ is None else environ
    locale = next((env[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(name)), "")
    names = [locale]
    if locale.split(".")[0] not in ("C", "POSIX", ""):
        names = [*env.get("LANGUAGE", "").split(":"), locale]
    for name in names:
        prefix = name.split("_")[0].split(".")[0]
        if prefix in CATALOGS:
            return prefix
        if prefix:
            return "en"
    return "en"


def tr(text: str) -> str:
    """`text` in the user's language (as it is when there is no translation)."""
    global _catalog
    if _catalog is None:
        name = CATALOGS.get(language())
        _catalog = read_po(os.path.join(os.path.dirname(__file__), name)) if name else {}
    return _catalog.get(text, text)


def read_po(path: str) -> dict[str, str]:
    """msgid -> msgstr of a .po file: the subset these files use (no plural
    forms, no contexts); empty translations and the header are left out.
    Hand-rolled: the standard library reads only compiled .mo files."""
    import ast  # here: only a translated UI pays for it

    catalog: dict[str, str] = {}
    entry: dict[str, str] = {}
    key = ""

    def close() -> None:
        if entry.get("msgid") and entry.get("msgstr"):
            catalog[entry["msgid"]] = entry["msgstr"]
        entry.clear()

    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(("msgid ", "msgstr ")):
                key, _, line = line.partition(" ")
                if key == "msgid":
                    close()
                entry[key] = ""
            entry[key] += ast.literal_eval(line)  # a C string: "..." with \n, \" and \\
    close()
    return catalog
