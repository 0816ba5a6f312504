# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time a tailnet converge and rerun: one headscale server and N Tailscale nodes.

For each N and each run: start 1 + N fresh lab hosts, time `site.yml` (converge), time it again
(rerun, which must report 0 changed), check that every node has joined (it has a tailnet
address, and the first node gets a ping answer from every other node's tailnet address through
tailscale0, bounded polling), then remove the hosts. The controller's side (the server's CA) is
emptied before each run, so every converge starts from nothing, like the hosts.

Ours: `site.yml` with one server in group `headscale_servers` (server_url https://SERVER, the
embedded DERP relay only, as the lab has no internet; one user; MagicDNS under tailnet.bench;
no ACL policy) and the N nodes in group `tailscale_nodes` (user `bench`), with the Go-built
headscale 0.29.3 and Tailscale 1.102.5 of `make headscale` through the roles' file install path.

Side by side with baselines (--baseline-headscale-role-dir and --baseline-tailscale-collection-dir),
in the same script run on the same kind of lab hosts, each of their runs next to one of ours
(alternating which goes first): the most used public roles of the two systems,

  kazauwa/ansible-role-headscale 2.1.0 (MIT) for the server, and
  artis3n/ansible-collection-tailscale v1.2.1 (MIT), role artis3n.tailscale.machine, for the nodes,

which `make bench-tailnet-converge` clones from their repositories (TAILNET_BASELINE_*_REPO may be
local mirrors) at the commits the results name. What their user runs for the same tailnet
(baseline_playbook below), everything that ours does in its one `site.yml` run:

  - on the controller: a CA and the server's certificate for https://SERVER (openssl, once);
  - on the server: the headscale binary (the role downloads it from GitHub, which the lab cannot
    reach: the same Go-built binary as ours is copied into place first, and the role's four
    download tasks are skipped by a one-line `when` each, see patch_headscale_role), the TLS
    files, then the role with the same settings as ours (`headscale_config`: the config ours
    renders for the same inventory) and `headscale_users: [bench]`;
  - on the nodes: the tailscale and tailscaled binaries with the unit and defaults file of
    Tailscale's package (the role installs the package from pkgs.tailscale.com, unreachable
    here: `tailscale_manage_binaries_skip: true`), the CA in the system trust store (tailscaled
    restarted when it changed); then one reusable pre-auth key minted on the server when a
    node has not joined; then the role with `tailscale_args: --login-server=https://SERVER
    --hostname=NODE`, `auth_key_in_state: false` (a new key alone does not make it run
    `tailscale up` again).

Two more patch lines make kazauwa's role run at all with ansible-core 2.19 and headscale 0.29:
its three `when:` conditions on a dict and strings (refused by 2.19: "Conditionals must have a
boolean result") test `| length > 0`, and its `headscale users create` of every user on every
run, which fails on a rerun ("UNIQUE constraint failed"), tolerates a user that exists.

Counts per host, besides the times: the task results of the PLAY RECAP and the module runs on
that host, counted from the podman calls Ansible makes (see lab/labkit/bench.py). Steps
delegated to the controller (the server's CA) run no podman and are not in these counts; the
pre-auth keys minted for joining nodes run on the server and count there.

Playbooks, inventories, every ansible-playbook log and podman call log go to build/bench.
Writes OUTPUT/tailnet-converge.md and .json: medians, min–max, seconds per added node, tasks
and module runs per host, the commit measured, every sample.
"""
from __future__ import absolute_import, division, print_function

import argparse
import datetime
import os
import shutil
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lab"))
# The collection as Ansible sees it (make setup links it), for the config ours renders.
sys.path.insert(0, os.path.join(ROOT, "build", "collections"))

from labkit import traffic  # noqa: E402  (after the path is set)
from labkit.hosts import fqdn  # noqa: E402
from labkit.bench import LAB, require_collection_link, write_json  # noqa: E402
from labkit.converge import Contender, check_rerun_unchanged, measured_sentence, module_run_lines, prepare, ratios, run_all  # noqa: E402
from labkit.converge import seconds_per_client_by_label, tree_description  # noqa: E402
from labkit.podman import LabError, on, run  # noqa: E402
from labkit.provenance import role_version  # noqa: E402
from labkit.summary import spread_text, write_report  # noqa: E402
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_inventory import server_plan  # noqa: E402

OURS_LABEL = "overlaynet.vpn.headscale + tailscale"
BASELINE_LABEL = "kazauwa.headscale + artis3n.tailscale.machine"
BASELINE_URLS = ("https://github.com/kazauwa/ansible-role-headscale", "https://github.com/artis3n/ansible-collection-tailscale")
JOIN_TIMEOUT_S = 120
TARGET_CONVERGE_RATIO = 0.25
TARGET_RERUN_RATIO = 0.1
# What Tailscale's Debian package installs besides the binaries: its unit and defaults file, in the Go module.
TAILSCALED_UNIT = os.path.join("cmd", "tailscaled", "tailscaled.service")
TAILSCALED_DEFAULTS = 'PORT="41641"\nFLAGS="--no-logs-no-support"\n'


def binaries():
    paths = {"headscale": os.environ.get("OVERLAYNET_HEADSCALE"), "tailscale": os.environ.get("OVERLAYNET_TAILSCALE"),
             "tailscaled": os.environ.get("OVERLAYNET_TAILSCALED")}
    missing = sorted(name for name, path in paths.items() if not path or not os.path.isfile(path))
    if missing:
        raise SystemExit("bench: no Go-built %s (run make headscale)" % ", ".join(missing))
    return paths


def ours_inventory(server, nodes, state_dir):
    paths = binaries()
    return {"all": {
        "children": {
            "headscale_servers": {"hosts": {server: {
                "headscale_server_url": "https://%s" % fqdn(server),
                "headscale_install_source": "file",
                "headscale_install_file": paths["headscale"],
                "headscale_users": ["bench"],
                "headscale_derp": {"urls": []},
                "headscale_dns": {"base_domain": "tailnet.bench"},
            }}},
            "tailscale_nodes": {"hosts": dict((node, {}) for node in nodes), "vars": {
                "tailscale_user": "bench",
                "tailscale_cli_source": "file", "tailscale_cli_file": paths["tailscale"],
                "tailscale_daemon_source": "file", "tailscale_daemon_file": paths["tailscaled"],
            }},
        },
        "vars": {
            "headscale_pki_root": os.path.join(state_dir, "headscale-pki"),
        },
    }}


def tailnet_ipv4(node):
    return on(node, "tailscale ip -4", check=False).stdout.strip() or None


def wait_for_tailnet(nodes, timeout=JOIN_TIMEOUT_S):
    """Every node has a tailnet address, and the first node gets a ping answer from each other
    one through tailscale0 (the route is checked first, so no probe leaves by the lab's route)."""
    deadline = time.monotonic() + timeout
    addresses = {}
    for node in nodes:
        traffic.wait_until("a tailnet address on %s" % node, lambda: tailnet_ipv4(node) is not None,
                           timeout=max(0.0, deadline - time.monotonic()), interval=0.5)
        addresses[node] = tailnet_ipv4(node)
    for node in nodes[1:]:
        if traffic.route_device(nodes[0], addresses[node]) != "tailscale0":
            raise LabError("%s does not route %s's tailnet address through tailscale0" % (nodes[0], node))
        traffic.wait_for_reply(nodes[0], addresses[node], timeout=max(0.0, deadline - time.monotonic()))


# --- the baselines -------------------------------------------------------------------------------

def patch_headscale_role(source_dir, role_dir):
    """A copy of kazauwa/ansible-role-headscale with the lines the module docstring describes."""
    shutil.rmtree(role_dir, ignore_errors=True)
    shutil.copytree(source_dir, role_dir, ignore=shutil.ignore_patterns(".git"))
    install = os.path.join(role_dir, "tasks", "install.yml")
    with open(install) as handle:
        text = handle.read()
    for name in ("Get release checksums", "Parse checksums", "Parse checksums (cont.)", "Download headscale binary"):
        marker = "- name: %s\n" % name
        if marker not in text:
            raise SystemExit("bench: %s has no task %r to skip: another version of the role?" % (install, name))
        text = text.replace(marker, marker + "  when: headscale_download | bool\n", 1)
    with open(install, "w") as handle:
        handle.write(text)
    configure = os.path.join(role_dir, "tasks", "configure.yml")
    with open(configure) as handle:
        text = handle.read()
    for variable in ("headscale_config", "headscale_config_template", "headscale_acl_file"):
        text = text.replace("  when: %s\n" % variable, "  when: %s | length > 0\n" % variable, 1)
    marker = "  changed_when: '\"User created\" in user_created.stdout'\n"
    if marker not in text:
        raise SystemExit("bench: %s has no users task to patch: another version of the role?" % configure)
    text = text.replace(marker, marker + "  failed_when: user_created.rc != 0 and 'UNIQUE constraint' not in user_created.stderr\n", 1)
    with open(configure, "w") as handle:
        handle.write(text)


def baseline_inventory_writer(tailscaled_unit):
    def baseline_inventory(server, nodes, state_dir):
        paths = binaries()
        ours = ours_inventory(server, nodes, state_dir)["all"]["children"]["headscale_servers"]["hosts"][server]
        return {"all": {
            "children": {
                "baseline_headscale_servers": {"hosts": {server: {}}},
                "baseline_tailscale_nodes": {"hosts": dict((node, {}) for node in nodes)},
            },
            "vars": {
                "bench_server": server, "bench_server_name": fqdn(server), "bench_state_dir": state_dir, "bench_binaries": paths,
                "bench_tailscaled_unit": tailscaled_unit,
                "bench_tailscaled_defaults": TAILSCALED_DEFAULTS,
                # kazauwa.headscale
                "headscale_version": "0.29.3", "headscale_download": False, "headscale_users": ["bench"],
                "headscale_config": headscale_config_of(server, ours),
                # artis3n.tailscale.machine (its tasks ask for become; lab hosts have no sudo, and we are root)
                "ansible_become_method": "su",
                "state": "present", "tailscale_manage_binaries_skip": True, "auth_key_in_state": False,
                "tailscale_args": "--login-server=https://%s --hostname={{ inventory_hostname }}" % fqdn(server),
            },
        }}
    return baseline_inventory


def headscale_config_of(server, variables):
    """The config.yaml ours renders for the server's variables (the same settings for both)."""
    return server_plan({server: variables}, {"headscale_servers": [server]}, server)["config"]


def baseline_playbook():
    key_path = "/etc/headscale/tls/headscale.key"
    cert_path = "/etc/headscale/tls/headscale.crt"
    return [
        {"name": "The user's own: a CA and the server's certificate on the controller (openssl)",
         "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": [
             {"name": "Extensions of the server certificate", "ansible.builtin.copy": {
                 "dest": "{{ bench_state_dir }}/server.ext", "mode": "0600",
                 "content": "subjectAltName=DNS:{{ bench_server_name }}\nextendedKeyUsage=serverAuth\n"}},
             {"name": "CA", "ansible.builtin.command": {
                 "cmd": "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj /CN=bench-ca "
                        "-keyout ca.key -out ca.crt", "chdir": "{{ bench_state_dir }}", "creates": "ca.crt"}},
             {"name": "Server key and request", "ansible.builtin.command": {
                 "cmd": "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN={{ bench_server_name }} "
                        "-keyout server.key -out server.csr", "chdir": "{{ bench_state_dir }}", "creates": "server.key"}},
             {"name": "Server certificate", "ansible.builtin.command": {
                 "cmd": "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 "
                        "-extfile server.ext -out server.crt", "chdir": "{{ bench_state_dir }}", "creates": "server.crt"}},
         ]},
        {"name": "The user's own: the headscale binary (the role would download it) and the TLS files",
         "hosts": "baseline_headscale_servers", "gather_facts": False, "tasks": [
             {"name": "TLS directory", "ansible.builtin.file": {"path": "/etc/headscale/tls", "state": "directory", "mode": "0755"}},
             {"name": "headscale", "ansible.builtin.copy": {"src": "{{ bench_binaries.headscale }}", "dest": "/usr/local/bin/headscale",
                                                            "mode": "0755"}},
             {"name": "Certificate", "ansible.builtin.copy": {"src": "{{ bench_state_dir }}/server.crt", "dest": cert_path, "mode": "0644"}},
             {"name": "Key", "ansible.builtin.copy": {"src": "{{ bench_state_dir }}/server.key", "dest": key_path, "owner": "800",
                                                      "group": "800", "mode": "0640"}},
         ]},
        {"name": "kazauwa/ansible-role-headscale on the server", "hosts": "baseline_headscale_servers", "gather_facts": False,
         "roles": [{"role": "kazauwa.headscale"}]},
        {"name": "The user's own: Tailscale's binaries, unit and defaults (the role would install its package), the CA",
         "hosts": "baseline_tailscale_nodes", "gather_facts": False,
         "tasks": [
             {"name": "tailscale", "ansible.builtin.copy": {"src": "{{ bench_binaries.tailscale }}", "dest": "/usr/bin/tailscale",
                                                            "mode": "0755"}},
             {"name": "tailscaled", "ansible.builtin.copy": {"src": "{{ bench_binaries.tailscaled }}", "dest": "/usr/sbin/tailscaled",
                                                             "mode": "0755"}, "notify": "Restart tailscaled"},
             {"name": "The package's unit", "ansible.builtin.copy": {"src": "{{ bench_tailscaled_unit }}",
                                                                     "dest": "/lib/systemd/system/tailscaled.service", "mode": "0644"},
              "notify": "Restart tailscaled"},
             {"name": "The package's defaults", "ansible.builtin.copy": {"content": "{{ bench_tailscaled_defaults }}",
                                                                         "dest": "/etc/default/tailscaled", "mode": "0644"},
              "notify": "Restart tailscaled"},
             {"name": "The CA", "ansible.builtin.copy": {"src": "{{ bench_state_dir }}/ca.crt",
                                                         "dest": "/usr/local/share/ca-certificates/bench-ca.crt", "mode": "0644"},
              "register": "bench_ca"},
             {"name": "Trust it", "ansible.builtin.command": "update-ca-certificates", "when": "bench_ca is changed",
              "notify": "Restart tailscaled"},
             {"name": "Start tailscaled",
              "ansible.builtin.systemd_service": {"name": "tailscaled", "state": "started", "enabled": True, "daemon_reload": True}},
             {"ansible.builtin.meta": "flush_handlers"},
             {"name": "Whether this node has joined", "ansible.builtin.command": "tailscale status --json",
              "register": "bench_status", "changed_when": False},
         ],
         "handlers": [{"name": "Restart tailscaled", "ansible.builtin.systemd_service": {
             "name": "tailscaled", "state": "restarted", "daemon_reload": True}}]},
        {"name": "The user's own: one reusable pre-auth key when a node has not joined", "hosts": "baseline_headscale_servers",
         "gather_facts": False, "tasks": [
             {"name": "The user's id", "ansible.builtin.command": "headscale users list --output json", "register": "bench_users",
              "changed_when": False, "when": "bench_unjoined | length > 0"},
             {"name": "Mint the key", "ansible.builtin.command": "headscale preauthkeys create --user {{ (bench_users.stdout | from_json "
              "| selectattr('name', 'equalto', 'bench') | first).id }} --reusable --expiration 1h --output json",
              "register": "bench_key", "when": "bench_unjoined | length > 0", "no_log": True},
         ],
         "vars": {"bench_unjoined": "{{ groups['baseline_tailscale_nodes'] | map('extract', hostvars, 'bench_status') "
                                    "| map(attribute='stdout') | map('from_json') | rejectattr('BackendState', 'equalto', 'Running') | list }}"}},
        {"name": "artis3n.tailscale.machine on the nodes", "hosts": "baseline_tailscale_nodes", "gather_facts": True,
         "vars": {"tailscale_authkey": "{{ (hostvars[bench_server].bench_key.stdout | from_json).key "
                                       "if hostvars[bench_server].bench_key.stdout is defined else 'joined-already' }}"},
         "roles": [{"role": "artis3n.tailscale.machine"}]},
    ]


def markdown(report):
    rows = report["rows"]
    lines = [
        "# Tailnet converge and rerun: one headscale server and N Tailscale nodes",
        "",
        measured_sentence(report),
        "",
        "Fresh lab hosts (podman, systemd) and an empty controller side (the server's CA) for every run; forks >=",
        "hosts; times are wall-clock seconds of the whole `ansible-playbook` run, median (min–max) of %s. After the" % (
            "; ".join("%d run%s with %d nodes" % (runs, "" if runs == 1 else "s", count) for count, runs in sorted(report["runs"].items()))),
        "rerun every node had a tailnet address and the first node got a ping answer from every other one through",
        "tailscale0.",
        "",
        "Ours: `site.yml`, one server in `headscale_servers` (its own CA for TLS, the embedded DERP relay only, one",
        "user, MagicDNS, no ACL policy) and N nodes in `tailscale_nodes`, each joining with a pre-auth key minted on",
        "the server in the run; headscale 0.29.3 and Tailscale 1.102.5 built by `make headscale`, installed through",
        "the roles' file path.",
    ]
    if report["baseline_versions"]:
        lines += [
            "",
            "Baseline: [kazauwa/ansible-role-headscale](%s) (%s) and [artis3n.tailscale.machine](%s) (%s), in the same script run,"
            % (BASELINE_URLS[0], report["baseline_versions"][0], BASELINE_URLS[1], report["baseline_versions"][1]),
            "each of its runs next to one of ours (alternating which goes first), with what their user adds for the same tailnet:",
            "a CA and the server's certificate (openssl), the binaries (the roles download them; the lab has no internet) with",
            "the unit and defaults of Tailscale's package, the CA in the nodes' trust store, one reusable pre-auth key when a",
            "node has not joined. Three patch lines make kazauwa's role run offline and with ansible-core 2.19 and headscale 0.29;",
            "details in the docstring of `bench/tailnet_converge.py`.",
        ]
    lines += [
        "",
        "| role | nodes | converge s | rerun s | rerun changed | server tasks / module runs (converge, rerun) "
        "| node tasks / module runs (converge, rerun) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        counts = row["counts"]
        lines.append("| %s | %d | %s | %s | %d | %d / %d, %d / %d | %d / %d, %d / %d |" % (
            row["label"], row["clients"], spread_text(row["converge"], 1), spread_text(row["rerun"], 1), row["changed_on_rerun"],
            counts["converge_server_tasks"], counts["converge_server_module_runs"], counts["rerun_server_tasks"],
            counts["rerun_server_module_runs"], counts["converge_client_max_tasks"], counts["converge_client_max_module_runs"],
            counts["rerun_client_max_tasks"], counts["rerun_client_max_module_runs"]))
    if report["ratios"]:
        lines += ["", "| nodes | converge ours / baseline | rerun ours / baseline |", "|---|---|---|"]
        for ratio in report["ratios"]:
            lines.append("| %d | %.2f (target <= %.2f: %s) | %.2f (target <= %.2f: %s) |" % (
                ratio["clients"], ratio["converge"], report["targets"]["converge_ratio"], "met" if ratio["converge_target_met"] else "missed",
                ratio["rerun"], report["targets"]["rerun_ratio"], "met" if ratio["rerun_target_met"] else "missed"))
    for label, per_node in sorted(report["seconds_per_client"].items()):
        lines += ["", "%s, seconds per added node: converge %.1f, rerun %.1f." % (label, per_node["converge"], per_node["rerun"])]
    lines += ["", "Module runs by module (largest N, first run):", ""]
    lines += module_run_lines(rows, "node")
    lines.append("")
    return "\n".join(lines)


def collection_version(collection_dir):
    """The commit of a collection checkout, else the version its galaxy.yml names."""
    version = role_version(collection_dir)
    if version != "unknown version":
        return version
    with open(os.path.join(collection_dir, "galaxy.yml")) as handle:
        for line in handle:
            if line.startswith("version:"):
                return "version %s (galaxy.yml)" % line.split(":", 1)[1].strip()
    return version


def baseline_contender(args, workdir):
    """The baseline's contender: its roles where Ansible finds them (a patched copy of the
    headscale role, the collection as an installed one), its playbook and inventory writer."""
    role_source = os.path.abspath(args.baseline_headscale_role_dir)
    collection_source = os.path.abspath(args.baseline_tailscale_collection_dir)
    for path in (os.path.join(role_source, "tasks", "install.yml"), os.path.join(collection_source, "roles", "machine", "tasks", "main.yml")):
        if not os.path.isfile(path):
            raise SystemExit("bench: %s is missing; see --help for how to get the baselines" % path)
    roles_dir = os.path.join(workdir, "tailnet-baseline-roles")
    patch_headscale_role(role_source, os.path.join(roles_dir, "kazauwa.headscale"))
    collections_dir = os.path.join(workdir, "tailnet-baseline-collections")
    collection_dir = os.path.join(collections_dir, "ansible_collections", "artis3n", "tailscale")
    shutil.rmtree(collection_dir, ignore_errors=True)
    shutil.copytree(collection_source, collection_dir, ignore=shutil.ignore_patterns(".git"))
    module_dir = os.path.join(os.environ.get("OVERLAYNET_GO_MODULES", os.path.expanduser("~/.cache/overlaynet/go/mod")), "tailscale.com@v1.102.5")
    unit = os.path.join(module_dir, TAILSCALED_UNIT)
    if not os.path.isfile(unit):
        raise SystemExit("bench: %s is missing (make headscale downloads the Tailscale module)" % unit)
    playbook = os.path.join(workdir, "tailnet-baseline-playbook.yml")
    write_json(playbook, baseline_playbook())
    env = {"ANSIBLE_ROLES_PATH": roles_dir,
           "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([collections_dir, os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")])}
    return Contender(BASELINE_LABEL, playbook, baseline_inventory_writer(unit), None, args.host_prefix + "b", wait_for_tailnet, env)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[4, 8], help="numbers of nodes (N), one server each")
    parser.add_argument("--runs", type=int, default=3, help="runs per N")
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results"), help="directory for tailnet-converge.md/.json")
    parser.add_argument("--host-prefix", default="btn-",
                        help="prefix of the lab host names: PREFIXos, PREFIXocNN (ours), PREFIXbs, PREFIXbcNN (baseline)")
    parser.add_argument("--baseline-headscale-role-dir", help="a checkout of kazauwa/ansible-role-headscale (see above)")
    parser.add_argument("--baseline-tailscale-collection-dir", help="a checkout of artis3n/ansible-collection-tailscale (see above)")
    args = parser.parse_args()
    if any(count < 2 for count in args.nodes) or args.runs < 1:
        parser.error("--nodes needs 2 or more nodes, --runs at least 1 run")
    require_collection_link(parser, ROOT)
    binaries()
    workdir, wrapper, machine = prepare(ROOT, args.output)
    run(LAB + ["image"])
    contenders = [Contender(OURS_LABEL, os.path.join(ROOT, "site.yml"), ours_inventory, None, args.host_prefix + "o", wait_for_tailnet)]
    baseline_versions = None
    if args.baseline_headscale_role_dir or args.baseline_tailscale_collection_dir:
        if not (args.baseline_headscale_role_dir and args.baseline_tailscale_collection_dir):
            parser.error("the baseline needs both --baseline-headscale-role-dir and --baseline-tailscale-collection-dir")
        contenders.append(baseline_contender(args, workdir))
        baseline_versions = [role_version(os.path.abspath(args.baseline_headscale_role_dir)),
                             collection_version(os.path.abspath(args.baseline_tailscale_collection_dir))]

    commit = tree_description(ROOT)
    partial = os.path.join(workdir, "tailnet-converge-samples.json")
    rows = run_all(contenders, [(count, args.runs) for count in args.nodes], workdir, wrapper, ROOT, partial, commit, "node")
    rows.sort(key=lambda row: (row["label"] != OURS_LABEL, row["clients"]))

    targets = {"converge_ratio": TARGET_CONVERGE_RATIO, "rerun_ratio": TARGET_RERUN_RATIO}
    report = {
        "date": datetime.date.today().isoformat(), "machine": machine, "commit": commit, "baseline_versions": baseline_versions,
        "runs": dict((count, args.runs) for count in args.nodes), "nodes": sorted(args.nodes), "targets": targets,
        "rows": rows, "ratios": ratios(rows, OURS_LABEL, BASELINE_LABEL, targets),
        "seconds_per_client": seconds_per_client_by_label(rows, [contender.label for contender in contenders]),
    }
    write_report(args.output, "tailnet-converge-baseline" if baseline_versions else "tailnet-converge", report, markdown(report))
    check_rerun_unchanged(rows, OURS_LABEL, workdir, "node")


if __name__ == "__main__":
    main()
