# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts the benches share (labkit.bench, summary, provenance) and the OpenVPN log
readers, without a lab: the samples are output of the real commands on the lab hosts."""
from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labkit import bench, openvpn, provenance, summary, traffic  # noqa: E402  (after the path is set)

# An OpenVPN 2.6 client's journal: it connected, then reconnected over TCP with other buffers.
OPENVPN_CLIENT_LOG = """\
OpenVPN 2.6.14 x86_64-pc-linux-gnu [SSL (OpenSSL)] [LZO] [LZ4] [EPOLL] [PKCS11] [MH/PKTINFO] [AEAD] [DCO]
Socket Buffers: R=[212992->212992] S=[212992->212992]
UDPv6 link remote: [AF_INET6]fd00:89::5:1194
net_iface_mtu_set: mtu 1500 for ovpnc-bench
Data Channel: cipher 'AES-256-GCM', peer-id: 0
Initialization Sequence Completed
SIGUSR1[soft,connection-reset] received, process restarting
Socket Buffers: R=[131072->1048576] S=[16384->1048576]
TCPv4_CLIENT link remote: [AF_INET]10.89.0.5:1194
net_iface_mtu_set: mtu 60000 for ovpnc-bench
Data Channel: cipher 'CHACHA20-POLY1305', peer-id: 1
Initialization Sequence Completed
"""

# /proc/PID/stat of an openvpn process whose name holds a space and a parenthesis.
PROC_STAT = ("4242 (open vpn)) S 1 4242 4242 0 -1 4194560 1525 0 0 0 731 262 0 0 20 0 1 0 3958 "
             "10334208 2219 18446744073709551615 1 1 0 0 0 0 0 4096 16899 0 0 0 17 1 0 0 0 0 0")

# What the podman wrapper logged for a converge (arguments shortened where they do not matter).
PODMAN_CALLS = """\
mount bovc-os
exec bovc-os /bin/sh -c echo ~ && sleep 0
exec bovc-os /bin/sh -c /usr/bin/python3 /root/.ansible/tmp/ansible-tmp-1796021908.89-8522-749/AnsiballZ_host_probe.py && sleep 0
mount bovc-oc01
exec bovc-oc01 /bin/sh -c /usr/bin/python3 /root/.ansible/tmp/ansible-tmp-1796021909.10-8530-123/AnsiballZ_rendered_files.py && sleep 0
exec -i bovc-oc01 /bin/sh -c /usr/bin/python3 /root/.ansible/tmp/ansible-tmp-1796021909.50-8531-124/AnsiballZ_rendered_files.py && sleep 0
exec bovc-oc02 /bin/sh -c /usr/bin/python3 /root/.ansible/tmp/ansible-tmp-1796021909.60-8532-125/AnsiballZ_x509_key_request.py && sleep 0
exec bovc-other /bin/sh -c /usr/bin/python3 /root/.ansible/tmp/x/AnsiballZ_setup.py && sleep 0

"""


def test_parse_data_channel_takes_the_last_values_logged():
    assert openvpn.parse_data_channel(OPENVPN_CLIENT_LOG) == {
        "cipher": "CHACHA20-POLY1305", "rcvbuf": 1048576, "sndbuf": 1048576, "tun_mtu": 60000, "link": "TCPv4_CLIENT"}


def test_parse_data_channel_of_a_log_without_them():
    assert openvpn.parse_data_channel("Options error: --tls-crypt-v2 fails with 'missing.key'\n") == {
        "cipher": None, "rcvbuf": None, "sndbuf": None, "tun_mtu": None, "link": None}


def test_cpu_ticks_are_counted_after_the_last_parenthesis_of_the_name():
    assert traffic.parse_proc_stat_cpu_ticks(PROC_STAT) == 731 + 262


def test_podman_calls_and_module_runs_per_host():
    counts = bench.parse_podman_calls(PODMAN_CALLS, ["bovc-os", "bovc-oc01", "bovc-oc02", "bovc-oc03"])
    assert counts["bovc-os"] == {"podman_calls": 3, "module_runs": 1, "modules": {"host_probe": 1}}
    # A `podman mount` (how the connection puts files in place) is a call but not a module run;
    # `exec -i` still names the host.
    assert counts["bovc-oc01"] == {"podman_calls": 3, "module_runs": 2, "modules": {"rendered_files": 2}}
    assert counts["bovc-oc02"]["modules"] == {"x509_key_request": 1}
    assert counts["bovc-oc03"] == {"podman_calls": 0, "module_runs": 0, "modules": {}}
    assert "bovc-other" not in counts


def test_podman_wrapper_logs_each_call_and_runs_podman(tmp_path, monkeypatch):
    fake_podman = tmp_path / "podman"
    fake_podman.write_text("#!/bin/sh\necho \"podman ran: $*\"\n")
    fake_podman.chmod(0o755)
    monkeypatch.setenv("PATH", "%s%s%s" % (tmp_path, os.pathsep, os.environ["PATH"]))
    wrapper = bench.write_podman_wrapper(str(tmp_path))
    call_log = str(tmp_path / "calls.txt")
    env = dict(os.environ, **bench.podman_call_log_env(wrapper, call_log, 4))
    assert env["ANSIBLE_FORKS"] == "4" and env["ANSIBLE_PODMAN_EXECUTABLE"] == wrapper
    result = subprocess.run([wrapper, "exec", "host1", "/bin/sh", "-c", "echo 'a b'"], env=env, capture_output=True, text=True,
                            check=True)
    assert result.stdout == "podman ran: exec host1 /bin/sh -c echo 'a b'\n"
    with open(call_log) as handle:
        assert handle.read() == "exec host1 /bin/sh -c echo 'a b'\n"


def test_median_leaves_out_missing_values():
    assert summary.median([3.0, None, 1.0, 2.0]) == 2.0
    assert summary.median([None]) is None


def test_spread_and_its_text():
    values = summary.spread([2.0, 1.25, 9.5])
    assert values == {"median": 2.0, "min": 1.25, "max": 9.5}
    assert summary.spread_text(values) == "2.00 (1.25–9.50)"
    assert summary.spread_text(values, 1) == "2.0 (1.2–9.5)"


def test_write_report_writes_json_and_markdown(tmp_path, capsys):
    summary.write_report(str(tmp_path), "some-bench", {"ratio": 0.25, "name": "ü"}, "# Some bench\n")
    assert json.loads((tmp_path / "some-bench.json").read_text(encoding="utf-8")) == {"ratio": 0.25, "name": "ü"}
    assert (tmp_path / "some-bench.md").read_text(encoding="utf-8") == "# Some bench\n"
    assert capsys.readouterr().out == "# Some bench\n\n"


def test_cpu_model_reads_the_first_model_name(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\n"
                       "processor\t: 1\nmodel name\t: other\n")
    assert provenance.cpu_model(str(cpuinfo)) == "Intel(R) Xeon(R) CPU @ 2.20GHz"
    assert provenance.cpu_model(str(tmp_path / "absent")) == "unknown CPU"


def git(directory, *args):
    subprocess.run(["git", "-C", str(directory)] + list(args), check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_NAME="t",
                            GIT_COMMITTER_EMAIL="t@example.org", GIT_AUTHOR_DATE="2026-07-23T10:00:00Z",
                            GIT_COMMITTER_DATE="2026-07-23T10:00:00Z"))


@pytest.mark.parametrize("heading", ["## v2.4.1 (2026-01-02)", "# Version 2.4.1", "### 2.4.1"])
def test_role_version_of_a_copy_is_its_newest_changelog_version(tmp_path, heading):
    (tmp_path / "CHANGELOG.md").write_text("# Changelog\n\n%s\n- fixes\n\n## 2.3.0\n" % heading)
    assert provenance.role_version(str(tmp_path)) == "version 2.4.1"


def test_role_version_of_a_git_checkout_is_its_commit(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "README.md").write_text("a role\n")
    git(tmp_path, "add", "README.md")
    git(tmp_path, "commit", "-q", "-m", "first")
    commit = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert provenance.role_version(str(tmp_path)) == "commit %s, 2026-07-23" % commit
    # A role inside some other repository is not named by that repository's commit.
    (tmp_path / "roles" / "inner").mkdir(parents=True)
    assert provenance.role_version(str(tmp_path / "roles" / "inner")) == "unknown version"


def test_turn_order_turns_the_list_by_one_place_each_run():
    assert [bench.turn_order(["a", "b", "c"], run_index) for run_index in range(4)] == [
        ["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]]
    assert bench.turn_order(["ours", "theirs"], 1) == ["theirs", "ours"]


def test_require_collection_link(tmp_path, capsys):
    root = str(tmp_path / "checkout")
    os.makedirs(root)
    with pytest.raises(SystemExit):
        bench.require_collection_link(argparse.ArgumentParser(prog="bench"), root)
    assert capsys.readouterr().err.endswith("/build/collections/ansible_collections/overlaynet/vpn does not point at this checkout; "
                                            "run `make setup` (or `make collection-link`)\n")
    link_dir = os.path.join(root, "build", "collections", "ansible_collections", "overlaynet")
    os.makedirs(link_dir)
    os.symlink(root, os.path.join(link_dir, "vpn"))
    bench.require_collection_link(argparse.ArgumentParser(prog="bench"), root)


def test_make_workdir_makes_the_working_directory_and_the_output(tmp_path):
    output = str(tmp_path / "results")
    assert bench.make_workdir(str(tmp_path), output) == str(tmp_path / "build" / "bench")
    assert bench.make_workdir(str(tmp_path), output, "openvpn-throughput") == str(tmp_path / "build" / "bench" / "openvpn-throughput")
    assert os.path.isdir(str(tmp_path / "build" / "bench" / "openvpn-throughput")) and os.path.isdir(output)
