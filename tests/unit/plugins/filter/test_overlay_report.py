# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from html.parser import HTMLParser

from ansible_collections.overlaynet.vpn.plugins.filter.overlay_report import (
    overlay_report, overlay_report_html, overlay_report_table)


def check(address, answered=True, device="wg0", rtt=0.25):
    return {"address": address, "family": "ipv6" if ":" in address else "ipv4", "route_device": device,
            "through_tunnel": device == "wg0", "ping_ms": rtt if answered else None, "tcp": answered}


def peer(name, *checks, **options):
    entry = {"system": "wireguard", "network": options.get("network", "mesh"), "interface": "wg0", "peer": name,
             "managed": options.get("managed", True), "must_answer": options.get("must_answer", True),
             "extras": {"handshake_age_s": options.get("handshake", 5)}, "addresses": list(checks)}
    return entry


def probe(host, *peers, **options):
    return {"host": host, "peers": list(peers), "errors": options.get("errors", [])}


def statuses(report):
    return dict(((row["host"], row["peer"], row["address"]), row["status"]) for row in report["rows"])


def mesh_probes():
    return [
        probe("b", peer("a", check("10.77.0.1"), check("fd77::1", rtt=0.5))),
        probe("a", peer("b", check("10.77.0.2", rtt=0.75), check("fd77::2", rtt=0.5))),
    ]


def test_mesh_where_everything_answers_is_ok_with_one_row_per_address_sorted():
    report = overlay_report(mesh_probes())
    assert [(row["host"], row["peer"], row["address"]) for row in report["rows"]] == [
        ("a", "b", "10.77.0.2"), ("a", "b", "fd77::2"), ("b", "a", "10.77.0.1"), ("b", "a", "fd77::1")]
    assert set(statuses(report).values()) == {"ok"}
    assert report["rows"][1]["family"] == "ipv6"
    assert report["failures"] == {}
    assert report["summary"] == {"hosts": 2, "reported": 2, "missing": 0, "links": 4, "ok": 4, "offline": 0,
                                 "failed": 0, "errors": 0}


def test_pairs_take_the_worst_status_and_the_lowest_rtt():
    probes = mesh_probes()
    probes[1]["peers"][0]["addresses"][1] = check("fd77::2", answered=False)
    pairs = overlay_report(probes)["pairs"]
    assert [(pair["source"], pair["destination"], pair["status"], pair["ping_ms"], pair["links"]) for pair in pairs] == [
        ("a", "b", "failed", 0.75, 2), ("b", "a", "failed", 0.25, 2)]
    assert pairs[0]["reasons"] == ["no ICMP answer, no TCP echo"]
    assert pairs[1]["reasons"] == ["a gets no answer from this host"]


def test_hub_and_spoke_where_the_spoke_never_connected_fails_on_both_sides():
    # The hub cannot reach the spoke; the spoke's own row says ok (say, a stale answer path):
    # the link is still broken, and both hosts must fail.
    probes = [
        probe("hub", peer("spoke", check("10.78.0.2", answered=False), network="branches", handshake=None)),
        probe("spoke", peer("hub", check("10.78.0.1"), network="branches")),
    ]
    report = overlay_report(probes)
    assert statuses(report) == {("hub", "spoke", "10.78.0.2"): "failed", ("spoke", "hub", "10.78.0.1"): "failed"}
    assert report["rows"][1]["reason"] == "hub gets no answer from this host"
    assert sorted(report["failures"]) == ["hub", "spoke"]
    assert report["failures"]["hub"] == ["no traffic through the tunnel with spoke (wireguard branches wg0: no ICMP answer, no TCP echo)"]
    assert report["summary"]["failed"] == 2


def test_reverse_failure_stays_within_the_same_network_and_family():
    probes = [
        probe("a", peer("b", check("10.77.0.2", answered=False), check("fd77::2"))),
        probe("b", peer("a", check("10.77.0.1"), check("fd77::1")), peer("a", check("10.88.0.1"), network="other")),
    ]
    assert statuses(overlay_report(probes)) == {
        ("a", "b", "10.77.0.2"): "failed", ("a", "b", "fd77::2"): "ok",
        ("b", "a", "10.77.0.1"): "failed", ("b", "a", "fd77::1"): "ok", ("b", "a", "10.88.0.1"): "ok"}


def test_road_warrior_that_is_offline_is_not_a_failure():
    probes = [probe("hub", peer("laptop", check("10.78.0.9", answered=False), managed=False, must_answer=False, handshake=None))]
    report = overlay_report(probes, ["hub"])
    assert report["rows"][0]["status"] == "offline"
    assert report["rows"][0]["reason"] == "no ICMP answer"  # runs no listener, so no TCP is expected of it
    assert report["failures"] == {}
    assert report["summary"]["offline"] == 1 and report["summary"]["failed"] == 0


def test_peer_outside_the_play_is_judged_by_icmp_alone():
    # A connected road warrior, or a host left out by --limit: no echo listener runs there.
    laptop = check("10.78.0.9")
    laptop["tcp"] = False
    report = overlay_report([probe("hub", peer("laptop", laptop, managed=False, must_answer=False))], ["hub"])
    assert report["rows"][0]["status"] == "ok"
    assert "| - |" in overlay_report_table(report).splitlines()[2]


def test_unreachable_host_fails_every_link_to_it_and_is_listed_as_missing():
    probes = [probe("a", peer("b", check("10.77.0.2")), peer("c", check("10.77.0.3")))]
    report = overlay_report(probes, ["a", "b", "c"])
    assert report["missing"] == ["b", "c"]
    assert statuses(report) == {("a", "b", "10.77.0.2"): "failed", ("a", "c", "10.77.0.3"): "failed"}
    assert report["rows"][0]["reason"] == "no report from b"
    assert sorted(report["failures"]) == ["a"]
    assert len(report["failures"]["a"]) == 2
    assert report["summary"]["missing"] == 2 and report["summary"]["hosts"] == 3


def test_route_outside_the_tunnel_fails_even_when_the_peer_answers():
    report = overlay_report([probe("a", peer("b", check("10.77.0.2", device="eth0"))), probe("b")])
    assert report["rows"][0]["status"] == "failed"
    assert report["rows"][0]["reason"] == "route leaves through eth0, not wg0"
    report = overlay_report([probe("a", peer("b", check("10.77.0.2", device=None))), probe("b")])
    assert report["rows"][0]["reason"] == "no route"


def test_a_peer_whose_address_the_probe_could_not_find_says_why():
    unresolved = {"address": "-", "family": None, "route_device": None, "through_tunnel": False, "ping_ms": None,
                  "tcp": False, "problem": "not among this node's tailnet peers (tailscale status)"}
    report = overlay_report([probe("a", peer("b", unresolved)), probe("b")])
    assert report["rows"][0]["status"] == "failed"
    assert report["rows"][0]["reason"] == "not among this node's tailnet peers (tailscale status)"
    report = overlay_report([probe("a", peer("b", unresolved, must_answer=False)), probe("b")])
    assert report["rows"][0]["status"] == "offline"


def test_probe_errors_fail_their_host():
    report = overlay_report([probe("a", errors=["/var/lib/overlaynet/peers/x.json: no list of peers"])])
    assert report["errors"] == [{"host": "a", "message": "/var/lib/overlaynet/peers/x.json: no list of peers"}]
    assert report["failures"] == {"a": ["/var/lib/overlaynet/peers/x.json: no list of peers"]}
    assert overlay_report_table(report).splitlines()[-1] == "a: /var/lib/overlaynet/peers/x.json: no list of peers"


def test_table_lists_every_row_and_counts_links_without_traffic():
    probes = [
        probe("hub", peer("spoke", check("10.78.0.2", answered=False), handshake=None),
              peer("laptop", check("10.78.0.9", answered=False), managed=False, must_answer=False, handshake=None)),
        probe("spoke", peer("hub", check("10.78.0.1", answered=False), handshake=None)),
    ]
    lines = overlay_report_table(overlay_report(probes)).splitlines()
    assert lines[0] == "| host | system | interface | peer | tunnel address | ICMP | RTT ms | TCP | extra | status |"
    assert lines[2] == "| hub | wireguard | wg0 | laptop | 10.78.0.9 | no | - | - | no handshake | offline (no ICMP answer) |"
    assert lines[3] == ("| hub | wireguard | wg0 | spoke | 10.78.0.2 | no | - | no | no handshake"
                        " | failed (no ICMP answer, no TCP echo) |")
    assert lines[-1] == ("3 peer links checked, 3 without traffic through the tunnel"
                         " (2 failed, 1 offline: not managed by Ansible, may be switched off)")


def test_table_shows_rtt_handshake_and_escapes_pipes():
    report = overlay_report([probe("a", peer("b|c", check("10.77.0.2", rtt=0.123), handshake=7))])
    assert overlay_report_table(report).splitlines()[2] == (
        "| a | wireguard | wg0 | b\\|c | 10.77.0.2 | yes | 0.12 | yes | handshake 7 s ago | ok |")


def test_empty_report():
    report = overlay_report([])
    assert overlay_report_table(report).splitlines()[-1] == "0 peer links checked, 0 without traffic through the tunnel"
    assert "data-links=\"0\"" in overlay_report_html(report)


class PageParser(HTMLParser):
    """Collects the matrix cells, the summary's attributes, every tag and the text of a page."""

    def __init__(self):
        HTMLParser.__init__(self)
        self.cells = {}
        self.summary = None
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        if tag == "td" and "data-status" in attributes:
            self.cells[(attributes["data-source"], attributes["data-destination"])] = attributes["data-status"]
        if attributes.get("class") == "summary":
            self.summary = attributes

    def handle_data(self, data):
        self.text.append(data)


def parse(page):
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def test_html_page_has_a_matrix_cell_per_pair_with_its_status():
    probes = [
        probe("hub", peer("spoke", check("10.78.0.2", answered=False)),
              peer("laptop", check("10.78.0.9", answered=False), managed=False, must_answer=False)),
        probe("spoke", peer("hub", check("10.78.0.1"))),
        probe("a", peer("b", check("10.77.0.2"))),
    ]
    page = overlay_report_html(overlay_report(probes, ["hub", "spoke", "a", "b"]), title="Demo report")
    parsed = parse(page)
    assert parsed.cells == {("hub", "spoke"): "failed", ("hub", "laptop"): "offline", ("spoke", "hub"): "failed",
                            ("a", "b"): "failed"}
    assert parsed.summary["data-links"] == "4"
    assert parsed.summary["data-failed"] == "3"
    assert parsed.summary["data-offline"] == "1"
    assert parsed.summary["data-missing"] == "1"
    assert "Demo report" in parsed.text
    assert "script" not in parsed.tags and "link" not in parsed.tags and "img" not in parsed.tags
    assert "http" not in page


def test_html_escapes_names():
    report = overlay_report([probe("a", peer("<b>", check("10.77.0.2"))), probe("<b>", peer("a", check("10.77.0.1")))])
    parsed = parse(overlay_report_html(report, title="<i>title</i>"))
    assert "b" not in parsed.tags and "i" not in parsed.tags
    assert parsed.cells == {("a", "<b>"): "ok", ("<b>", "a"): "ok"}
    assert "<b>" in parsed.text and "<i>title</i>" in parsed.text
