"""Display names of units (品种名称): what a screen calls ``CEA2025`` or
``CCER:FOR-HB-01:2025``, in each language the UI shows, from the rule set's ``[names]``.

An allowance is its kind's name in this market and its vintage ("全国碳排放配额 2025",
"CEA 2025"); an offset adds its project's methodology, province and id ("CCER 林业碳汇 湖北
FOR-HB-01 2025"). A word the rule set does not know shows as the registry wrote it.
"""

from __future__ import annotations

import re

from registry_sim.model import Project
from registry_sim.rules import LANGUAGES, Names, UnitNames

_ALLOWANCE = re.compile(r"^([A-Z]+?)(\d{4})$")  # CEA2025 (registry_sim.model.cea)
_OFFSET = re.compile(r"^([A-Z]+):(.+):(\d{4})$")  # CCER:FOR-HB-01:2025 (offset_unit)


def unit_parts(code: str) -> tuple[str, str | None, int] | None:
    """A unit code's kind, project id (None for an allowance) and vintage; None if ``code``
    is neither shape."""
    offset = _OFFSET.match(code)
    if offset:
        return offset[1], offset[2], int(offset[3])
    allowance = _ALLOWANCE.match(code)
    if allowance:
        return allowance[1], None, int(allowance[2])
    return None


def _word(names: Names, what: str, language: str) -> str:
    known = names.get(what)
    return known[language] if known else what


def unit_name(names: UnitNames, code: str, project: Project | None) -> dict[str, str]:
    """``code``'s display name in each of ``LANGUAGES``; ``project`` is the offset's project
    as registered (None when unknown: the name then gives the project's id only)."""
    parts = unit_parts(code)
    if parts is None:
        return dict.fromkeys(LANGUAGES, code)
    kind, project_id, vintage = parts
    named: dict[str, str] = {}
    for language in LANGUAGES:
        words = [_word(names.kinds, kind, language)]
        if project is not None:
            words.append(_word(names.methodologies, project.methodology, language))
            words.append(_word(names.provinces, project.province, language))
        if project_id is not None:
            words.append(project_id)
        words.append(str(vintage))
        named[language] = " ".join(word for word in words if word)
    return named
