# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of labkit.converge: counts per host, summaries, ratios, seconds per client."""
from __future__ import absolute_import, division, print_function

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labkit import converge  # noqa: E402  (after the path is set)


def calls(modules_by_host):
    return dict((host, {"podman_calls": 3 * sum(modules.values()), "module_runs": sum(modules.values()), "modules": modules})
                for host, modules in modules_by_host.items())


def sample(converge_s, rerun_s, changed=0, client_runs=(2, 1)):
    recap = {"s": {"ok": 5, "changed": 1, "skipped": 4}, "c1": {"ok": 3, "skipped": 2}, "c2": {"ok": 4, "skipped": 2}}
    counts = converge.per_host(recap, calls({"s": {"host_probe": 1}, "c1": {"host_probe": client_runs[0]},
                                             "c2": {"host_probe": client_runs[1]}}), "s", ["c1", "c2"])
    return {"converge": converge_s, "rerun": rerun_s, "changed_on_rerun": changed, "converge_counts": counts,
            "rerun_counts": counts, "guard_drops_besides_probes": 0}


def test_per_host_gives_the_server_and_the_largest_and_smallest_client():
    counts = sample(1, 1)["converge_counts"]
    assert counts["server"] == {"tasks": 10, "module_runs": 1, "podman_calls": 3}
    assert counts["client_max"] == {"tasks": 6, "module_runs": 2, "podman_calls": 6}
    assert counts["client_min"] == {"tasks": 5, "module_runs": 1, "podman_calls": 3}
    assert counts["server_modules"] == {"host_probe": 1}


def test_summarise_ratios_and_seconds_per_client():
    rows = [converge.summarise("ours", 4, [sample(10, 2), sample(12, 3), sample(11, 2)]),
            converge.summarise("ours", 8, [sample(18, 4)]),
            converge.summarise("theirs", 4, [sample(40, 20, changed=2)])]
    assert rows[0]["converge"]["median"] == 11 and rows[0]["rerun"]["median"] == 2
    assert rows[0]["counts"]["rerun_client_max_module_runs"] == 2
    assert rows[2]["changed_on_rerun"] == 2
    assert converge.seconds_per_client(rows, "ours", "converge") == 7 / 4
    assert converge.seconds_per_client(rows, "theirs", "converge") is None
    assert converge.ratios(rows, "ours", "theirs", {"converge_ratio": 0.25, "rerun_ratio": 0.1}) == [{
        "clients": 4, "converge": 11 / 40, "rerun": 2 / 20, "converge_target_met": False, "rerun_target_met": True}]


def test_modules_text_lists_the_most_run_first():
    assert converge.modules_text({"b": 1, "a": 1, "c": 3}) == "c 3, a 1, b 1"
    assert converge.modules_text({}) == "none"
