# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connectivity report of every overlay system, from the outputs of playbooks/files/overlay_probe.py.

A probe output is {"host", "peers": [{system, network, interface, peer, managed, must_answer,
extras, addresses: [{address, family, route_device, through_tunnel, ping_ms, tcp, and problem when
the probe found no address for the peer}]}], "errors"}.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from html import escape

PEER_FIELDS = ("system", "network", "interface", "peer", "managed", "must_answer")
SEVERITY = {"ok": 0, "offline": 1, "failed": 2}
TABLE_HEADER = ["host", "system", "interface", "peer", "tunnel address", "ICMP", "RTT ms", "TCP", "extra", "status"]
DEFAULT_HTML_TITLE = "Overlay network connectivity"

# How the table shows each measured extra of a system (by its key in the probe's extras).
EXTRA_FORMATS = {
    "handshake_age_s": lambda age: "no handshake" if age is None else "handshake %d s ago" % age,
}

HTML_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; font-size: 0.9em; }
th { background: #eee; }
.ok { background: #d4f4d4; }
.failed { background: #f8c8c8; font-weight: bold; }
.offline { background: #e4e4e4; color: #555; }
.self, .none { background: #fafafa; color: #aaa; }
.summary { font-size: 1.1em; }
"""


def _problem(row):
    """Why traffic did not cross the tunnel to the row's address; empty when it did."""
    if row.get("problem"):
        # The probe could not find the peer's address (overlay_probe.py, resolve).
        return row["problem"]
    if not row["through_tunnel"]:
        if row["route_device"]:
            return "route leaves through %s, not %s" % (row["route_device"], row["interface"])
        return "no route"
    problems = []
    if row["ping_ms"] is None:
        problems.append("no ICMP answer")
    if row["tcp_expected"] and not row["tcp"]:
        problems.append("no TCP echo")
    return ", ".join(problems)


def _row(host, peer, check, listeners, missing):
    row = dict((key, peer[key]) for key in PEER_FIELDS)
    row.update(check)
    row.update({
        "host": host,
        "extras": peer.get("extras") or {},
        # Only hosts of the play run the echo listener: peers outside it (road warriors,
        # hosts left out by --limit) are judged by ICMP alone.
        "tcp_expected": peer["peer"] in listeners,
    })
    if row["peer"] in missing:
        row["status"], row["reason"] = "failed", "no report from %s" % row["peer"]
    else:
        reason = _problem(row)
        row["status"] = "ok" if not reason else "failed" if row["must_answer"] else "offline"
        row["reason"] = reason
    return row


def _fail_reverse_rows(rows, missing):
    """A peer that must answer and never did fails on both sides: its own row for this host fails too."""
    by_link = {}
    for row in rows:
        by_link.setdefault((row["host"], row["peer"], row["system"], row["network"], row["family"]), []).append(row)
    failed = [row for row in rows if row["status"] == "failed" and row["peer"] not in missing]
    for row in failed:
        for reverse in by_link.get((row["peer"], row["host"], row["system"], row["network"], row["family"]), []):
            if reverse["status"] != "failed":
                reverse["status"], reverse["reason"] = "failed", "%s gets no answer from this host" % row["host"]


def _pairs(rows):
    pairs = {}
    for row in rows:
        key = (row["system"], row["network"], row["host"], row["peer"])
        pair = pairs.setdefault(key, {
            "system": row["system"], "network": row["network"], "interface": row["interface"],
            "source": row["host"], "destination": row["peer"], "managed": row["managed"],
            "links": 0, "status": "ok", "ping_ms": None, "reasons": [],
        })
        pair["links"] += 1
        if SEVERITY[row["status"]] > SEVERITY[pair["status"]]:
            pair["status"] = row["status"]
        if row["ping_ms"] is not None and (pair["ping_ms"] is None or row["ping_ms"] < pair["ping_ms"]):
            pair["ping_ms"] = row["ping_ms"]
        if row["reason"] and row["reason"] not in pair["reasons"]:
            pair["reasons"].append(row["reason"])
    return [pairs[key] for key in sorted(pairs)]


def overlay_report(probes, hosts=None):
    """The report of every peer link in probes (a list of overlay_probe.py outputs).

    hosts: every host asked to probe (the play's hosts); those without a probe are missing,
    and every link to them fails. Default: the hosts of probes.
    Returns {rows, pairs, missing, errors, failures, summary}: one row per host, peer and
    tunnel address with its status (ok, offline or failed) and reason; one pair per host and
    peer in a system's network with the worst status of its rows and the lowest RTT; failures
    maps each host with a failed pair or a probe error to one message per failure.
    """
    by_host = dict((probe["host"], probe) for probe in probes)
    expected = set(by_host) if hosts is None else set(hosts)
    missing = sorted(expected - set(by_host))
    listeners = expected - set(missing)
    rows = [_row(host, peer, check, listeners, missing)
            for host in sorted(by_host)
            for peer in sorted(by_host[host]["peers"], key=lambda item: (item["system"], item["network"], item["peer"]))
            for check in peer["addresses"]]
    _fail_reverse_rows(rows, missing)
    pairs = _pairs(rows)
    errors = [{"host": host, "message": message} for host in sorted(by_host) for message in by_host[host].get("errors", [])]
    failures = {}
    for pair in pairs:
        if pair["status"] == "failed":
            failures.setdefault(pair["source"], []).append("no traffic through the tunnel with %s (%s %s %s: %s)" % (
                pair["destination"], pair["system"], pair["network"], pair["interface"], "; ".join(pair["reasons"])))
    for error in errors:
        failures.setdefault(error["host"], []).append(error["message"])
    statuses = [row["status"] for row in rows]
    return {
        "rows": rows,
        "pairs": pairs,
        "missing": missing,
        "errors": errors,
        "failures": failures,
        "summary": {
            "hosts": len(expected | set(by_host)),
            "reported": len(by_host),
            "missing": len(missing),
            "links": len(rows),
            "ok": statuses.count("ok"),
            "offline": statuses.count("offline"),
            "failed": statuses.count("failed"),
            "errors": len(errors),
        },
    }


def _describe_extras(extras):
    parts = [EXTRA_FORMATS[key](value) if key in EXTRA_FORMATS else "%s %s" % (key, value) for key, value in sorted(extras.items())]
    return ", ".join(parts) or "-"


def _row_cells(row):
    """The table cells of a row, as text, in the order of TABLE_HEADER."""
    return [
        row["host"],
        row["system"],
        row["interface"],
        row["peer"],
        row["address"],
        "yes" if row["ping_ms"] is not None else "no",
        "%.2f" % row["ping_ms"] if row["ping_ms"] is not None else "-",
        "yes" if row["tcp"] else "no" if row["tcp_expected"] else "-",
        _describe_extras(row["extras"]),
        row["status"] + (" (%s)" % row["reason"] if row["reason"] else ""),
    ]


def _summary_lines(report):
    summary = report["summary"]
    without_traffic = summary["failed"] + summary["offline"]
    line = "%d peer links checked, %d without traffic through the tunnel" % (summary["links"], without_traffic)
    if without_traffic:
        line += " (%d failed, %d offline: not managed by Ansible, may be switched off)" % (summary["failed"], summary["offline"])
    lines = [line]
    lines += ["no report from %s (unreachable or its probe failed): every link to it failed" % host for host in report["missing"]]
    lines += ["%s: %s" % (error["host"], error["message"]) for error in report["errors"]]
    return lines


def overlay_report_table(report):
    """The report as a Markdown table, one line per row, then the summary lines."""
    def line(cells):
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
    lines = [line(TABLE_HEADER), "|" + "---|" * len(TABLE_HEADER)]
    lines += [line(_row_cells(row)) for row in report["rows"]]
    lines.append("")
    lines += _summary_lines(report)
    return "\n".join(lines)


def _attributes(**values):
    """HTML attributes, escaped; a trailing underscore lets a keyword name one (class_)."""
    return "".join(' %s="%s"' % (name.rstrip("_").replace("_", "-"), escape(str(value))) for name, value in sorted(values.items()))


def _matrix_html(system, network, pairs, missing):
    """Rows: the hosts that probed the network (and missing ones it names); columns: their peers."""
    by_link = dict(((pair["source"], pair["destination"]), pair) for pair in pairs)
    destinations = sorted(set(pair["destination"] for pair in pairs))
    sources = sorted(set(pair["source"] for pair in pairs) | (set(missing) & set(destinations)))
    interfaces = ", ".join(sorted(set(pair["interface"] for pair in pairs)))
    html = ['<section class="network"%s>' % _attributes(data_system=system, data_network=network),
            "<h2>%s %s (%s)</h2>" % (escape(system), escape(network), escape(interfaces)),
            '<table class="matrix"><thead><tr><th>from \\ to</th>']
    html += ["<th>%s</th>" % escape(destination) for destination in destinations]
    html.append("</tr></thead><tbody>")
    for source in sources:
        label = escape(source) + (" (no report)" if source in missing else "")
        html.append("<tr><th%s>%s</th>" % (_attributes(data_host=source), label))
        for destination in destinations:
            pair = by_link.get((source, destination))
            if pair is None:
                html.append('<td class="%s"></td>' % ("self" if source == destination else "none"))
                continue
            text = pair["status"] + ("<br>%.2f ms" % pair["ping_ms"] if pair["ping_ms"] is not None else "")
            html.append("<td%s>%s</td>" % (_attributes(
                class_=pair["status"], data_source=source, data_destination=destination, data_status=pair["status"],
                title="; ".join(pair["reasons"]) or "ICMP and TCP crossed the tunnel"), text))
        html.append("</tr>")
    html.append("</tbody></table></section>")
    return html


def overlay_report_html(report, title=DEFAULT_HTML_TITLE):
    """The report as one self-contained HTML page: a matrix per system and network, then every row.

    No scripts and no external resources. Machine-readable: matrix cells carry data-source,
    data-destination and data-status; the summary paragraph carries data-links, data-ok,
    data-failed, data-offline and data-missing; each row of the full table data-host,
    data-peer, data-address and data-status.
    """
    summary = report["summary"]
    html = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
            "<title>%s</title><style>%s</style></head><body>" % (escape(title), HTML_STYLE),
            "<h1>%s</h1>" % escape(title),
            '<p class="summary"%s>%s</p>' % (
                _attributes(data_links=summary["links"], data_ok=summary["ok"], data_failed=summary["failed"],
                            data_offline=summary["offline"], data_missing=summary["missing"]),
                "<br>".join(escape(line) for line in _summary_lines(report)))]
    networks = {}
    for pair in report["pairs"]:
        networks.setdefault((pair["system"], pair["network"]), []).append(pair)
    for (system, network), pairs in sorted(networks.items()):
        html += _matrix_html(system, network, pairs, report["missing"])
    html.append('<h2>Every link</h2><table class="links"><thead><tr>')
    html += ["<th>%s</th>" % escape(name) for name in TABLE_HEADER]
    html.append("</tr></thead><tbody>")
    for row in report["rows"]:
        html.append("<tr%s>" % _attributes(class_=row["status"], data_host=row["host"], data_peer=row["peer"],
                                           data_address=row["address"], data_status=row["status"]))
        html += ["<td>%s</td>" % escape(cell) for cell in _row_cells(row)]
        html.append("</tr>")
    html.append("</tbody></table></body></html>")
    return "\n".join(html) + "\n"


class FilterModule(object):
    def filters(self):
        return {
            "overlay_report": overlay_report,
            "overlay_report_table": overlay_report_table,
            "overlay_report_html": overlay_report_html,
        }
