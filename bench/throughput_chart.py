# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bar chart (PNG) of bench/results/wireguard-throughput.json: median Gbit/s per set-up,
one group of bars per stream count. Needs matplotlib (bench/requirements.txt)."""
from __future__ import absolute_import, division, print_function

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)


def main(source, target):
    with open(source) as handle:
        summary = json.load(handle)
    cases = []
    for row in summary["cases"]:
        if row["case"] not in cases:
            cases.append(row["case"])
    stream_counts = sorted({row["streams"] for row in summary["cases"]})
    medians = {(row["case"], row["streams"]): row for row in summary["cases"]}
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    width = 0.8 / len(stream_counts)
    for offset, streams in enumerate(stream_counts):
        positions = [index + (offset - (len(stream_counts) - 1) / 2) * width for index in range(len(cases))]
        values = [medians[(case, streams)]["gbps_median"] for case in cases]
        errors = [[v - medians[(c, streams)]["gbps_min"] for c, v in zip(cases, values)],
                  [medians[(c, streams)]["gbps_max"] - v for c, v in zip(cases, values)]]
        bars = axes.bar(positions, values, width, yerr=errors, capsize=3,
                        label="%d stream%s" % (streams, "" if streams == 1 else "s"))
        axes.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
    axes.set_xticks(range(len(cases)), cases)
    axes.set_ylabel("Gbit/s (median, min–max)")
    axes.set_title("WireGuard TCP throughput between two lab hosts, %s" % summary["date"])
    axes.legend()
    figure.text(0.01, 0.01, summary["machine"], fontsize=7, color="gray")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    figure.savefig(target)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: throughput_chart.py RESULTS.json CHART.png")
    main(sys.argv[1], sys.argv[2])
