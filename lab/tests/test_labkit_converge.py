# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of labkit.converge: counts per host, summaries, ratios, seconds per client, the
runs of every N with fake contenders, and the parts of the report."""
from __future__ import absolute_import, division, print_function

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labkit import converge  # noqa: E402  (after the path is set)
from labkit.podman import LabError  # noqa: E402


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


class FakeContender(object):
    """A contender whose runs only record their order; run_once gives a sample or raises error."""

    def __init__(self, label, runs, error=None):
        self.label, self.runs, self.error = label, runs, error

    def run_once(self, count, run_index, workdir, wrapper, root):
        self.runs.append((self.label, count, run_index))
        if self.error:
            raise self.error
        return sample(10 + run_index, 2)


def test_run_all_takes_turns_and_keeps_every_sample_so_far(tmp_path):
    runs = []
    contenders = [FakeContender("ours", runs), FakeContender("theirs", runs)]
    samples_path = str(tmp_path / "samples.json")
    rows = converge.run_all(contenders, [(4, 2), (8, 1)], str(tmp_path), "wrapper", "root", samples_path, "abc123", "node")
    assert runs == [("ours", 4, 0), ("theirs", 4, 0), ("theirs", 4, 1), ("ours", 4, 1), ("ours", 8, 0), ("theirs", 8, 0)]
    assert [(row["label"], row["clients"], row["runs"]) for row in rows] == [("ours", 4, 2), ("theirs", 4, 2), ("ours", 8, 1), ("theirs", 8, 1)]
    assert rows[0]["converge"]["median"] == 10.5
    with open(samples_path) as handle:
        written = json.load(handle)
    assert written["nodes"] == 8 and written["commit"] == "abc123" and sorted(written["samples"]) == ["ours", "theirs"]
    assert len(written["samples"]["theirs"]) == 1


def test_run_all_stops_at_a_lab_error_naming_the_run(tmp_path):
    contenders = [FakeContender("ours", [], error=LabError("lab.py up failed"))]
    with pytest.raises(SystemExit) as stopped:
        converge.run_all(contenders, [(4, 1)], str(tmp_path), "wrapper", "root", str(tmp_path / "samples.json"), "abc123")
    assert str(stopped.value) == "bench: ours, 4 clients, run 1: lab: lab.py up failed"


def test_check_rerun_unchanged_names_every_n_whose_rerun_changed():
    rows = [converge.summarise("ours", 4, [sample(10, 2)]), converge.summarise("ours", 8, [sample(10, 2, changed=3)]),
            converge.summarise("theirs", 4, [sample(10, 2, changed=1)])]
    converge.check_rerun_unchanged(rows[:1] + rows[2:], "ours", "/work")
    with pytest.raises(SystemExit) as stopped:
        converge.check_rerun_unchanged(rows, "ours", "/work", "node")
    assert str(stopped.value) == "bench: the rerun of ours reported changes (8 nodes: changed=3); logs in /work"


def test_seconds_per_client_by_label_and_module_run_lines():
    rows = [converge.summarise("ours", 4, [sample(10, 2)]), converge.summarise("ours", 8, [sample(18, 4)]),
            converge.summarise("theirs", 4, [sample(40, 20)])]
    assert converge.seconds_per_client_by_label(rows, ["ours", "theirs"]) == {"ours": {"converge": 2, "rerun": 0.5}}
    assert converge.module_run_lines(rows, "node") == [
        "- ours, 8 nodes, converge: server host_probe 1; a node host_probe 2",
        "- ours, 8 nodes, rerun: server host_probe 1; a node host_probe 2",
        "- theirs, 4 nodes, converge: server host_probe 1; a node host_probe 2",
        "- theirs, 4 nodes, rerun: server host_probe 1; a node host_probe 2",
    ]


def test_measured_sentence_names_the_machine_and_the_commit():
    machine = {"host": "lab", "cores": 2, "cpu": "Some CPU", "kernel": "6.1.0", "python": "3.11.2", "ansible_core": "2.19.14",
               "podman": "4.3.1", "load_average_at_start": (0.5, 0.4, 0.3)}
    assert converge.measured_sentence({"date": "2026-11-30", "machine": machine, "commit": "abc123"}) == (
        "Measured 2026-11-30 on lab (2 cores, Some CPU), kernel 6.1.0; Python 3.11.2, ansible-core 2.19.14, podman 4.3.1; "
        "load average 0.50 at the start; overlaynet.vpn abc123.")
