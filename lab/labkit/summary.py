# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How the benches summarise their samples: medians with their range, as numbers and as text."""
from __future__ import absolute_import, division, print_function

import json
import os
import statistics


def median(values):
    """The median of the values that are not None; None when there are none."""
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def spread(values):
    """{'median', 'min', 'max'} of a non-empty list of numbers."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def spread_text(values, digits=2):
    """'median (min–max)' of a spread(), e.g. '1.50 (1.20–2.00)'."""
    return "%.*f (%.*f–%.*f)" % (digits, values["median"], digits, values["min"], digits, values["max"])


def write_report(directory, name, data, text):
    """A bench's results: NAME.json (data, every sample) and NAME.md (text) in directory, and
    the text printed."""
    with open(os.path.join(directory, name + ".json"), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    with open(os.path.join(directory, name + ".md"), "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)
