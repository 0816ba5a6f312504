# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time issuing N OpenVPN client certificates with their tls-crypt-v2 keys, three ways.

Every contestant starts from an empty directory and makes a CA, one server certificate, N
client certificates with keys made here, one tls-crypt-v2 client key per client (the client's
name as metadata) and a CRL. Wall-clock seconds of the whole job:

  ours              plugins/modules/openvpn_pki.py as Ansible runs a module: one fresh Python
                    process (`python openvpn_pki.py ARGS.json`, the collection importable from
                    build/collections) with the module's defaults (EC secp384r1 CA and keys,
                    tls_crypt_v2 true). Then, on the same directory, a rerun with unchanged
                    options (must report changed=false) and a run that adds one client (must
                    issue that one and keep every other).
  easy-rsa EC       easy-rsa 3 (Debian's /usr/share/easy-rsa/easyrsa) with EASYRSA_ALGO=ec,
                    EASYRSA_CURVE=secp384r1, like for like with ours: init-pki, build-ca nopass,
                    build-server-full server nopass, per client build-client-full NAME nopass
                    and `openvpn --tls-crypt-v2 server.key --genkey tls-crypt-v2-client`, gen-crl.
  easy-rsa RSA      the same with easy-rsa's default keys (RSA 2048).
  kyl191-style      the openssl commands kyl191/ansible-role-openvpn runs (tasks/server_keys.yml,
                    tasks/client_keys.yml, tasks/server_keys_crl.yml at commit c8db1c3):
                    `openssl req -nodes -newkey rsa:2048` and `openssl x509 -req` with an
                    extension file per certificate, the CA self-signed the same way, the CRL by
                    `openssl ca -gencrl`, plus the same tls-crypt-v2 keys for equal work. The
                    role runs each of these as an Ansible command task (one module run per
                    certificate and step), so its real cost is higher: only the commands are
                    timed here. Its Diffie-Hellman parameters (`openssl dhparam`) are left out,
                    as they are no per-client work and neither other contestant makes them.

Each contestant's output is checked after every run, and a wrong one fails the bench: the
client certificate, key and tls-crypt-v2 key files are exactly the N expected names; for the
first, middle and last client `openssl verify -crl_check -purpose sslclient` against the CA and
the CRL passes, the key file holds the certificate's key, and the tls-crypt-v2 key has the shape
of a client key wrapped with that name as metadata; the server certificate verifies for
sslserver.

The contestants run in a rotating order per run, each in a fresh temporary directory under
build/bench/openvpn-pki (removed after a run that passed its checks, kept after a failure).
Writes bench/results/openvpn-pki.md (medians, min–max, per-client cost, ratios) and
openvpn-pki.json (every sample, the machine, the commit measured).

    python bench/openvpn_pki.py --clients 100 500 --runs 3 --output bench/results
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import base64
import binascii
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lab"))

from labkit.bench import require_collection_link, turn_order  # noqa: E402  (after the path is set)
from labkit.provenance import commit_description, cpu_model  # noqa: E402
from labkit.summary import spread, spread_text, write_report  # noqa: E402

MODULE = os.path.join(ROOT, "plugins", "modules", "openvpn_pki.py")
COLLECTIONS_DIR = os.path.join(ROOT, "build", "collections")
EASYRSA = "/usr/share/easy-rsa/easyrsa"
KYL191_COMMIT = "c8db1c3, 2026-07-23"
SERVER_NAME = "server"
CA_COMMON_NAME = "bench OpenVPN CA"
TARGET_RATIO = 0.02

OURS = "ours"
EASYRSA_EC = "easy-rsa EC"
EASYRSA_RSA = "easy-rsa RSA"
KYL191 = "kyl191-style"
DESCRIPTIONS = {
    OURS: "overlaynet.vpn.openvpn_pki (EC secp384r1), one module process",
    EASYRSA_EC: "easy-rsa 3 with EASYRSA_ALGO=ec, EASYRSA_CURVE=secp384r1",
    EASYRSA_RSA: "easy-rsa 3 with its default keys (RSA 2048)",
    KYL191: "kyl191/ansible-role-openvpn's openssl commands (RSA 2048), commands only",
}

# A tls-crypt-v2 client key file holds Kc (256 bytes) and WKc: a 32-byte tag, Kc and the
# metadata (a type byte and the name) encrypted, and WKc's own length in 2 bytes.
TLS_CRYPT_V2_CLIENT_KEY_LABEL = "OpenVPN tls-crypt-v2 client key"
TLS_CRYPT_V2_KC_SIZE = 256
TLS_CRYPT_V2_WKC_OVERHEAD = 32 + TLS_CRYPT_V2_KC_SIZE + 1 + 2

# The extension files and CA configuration kyl191's role copies into its key directory
# (files/openssl-*.ext, templates/ca.conf.j2), written out here with the same settings.
KYL191_FILES = {
    "openssl-ca.ext": "\n".join([
        "basicConstraints = CA:TRUE",
        "subjectKeyIdentifier = hash",
        "authorityKeyIdentifier = keyid:always,issuer:always",
        "keyUsage = cRLSign, keyCertSign",
    ]),
    "openssl-server.ext": "\n".join([
        "basicConstraints = CA:FALSE",
        "subjectKeyIdentifier = hash",
        "authorityKeyIdentifier = keyid,issuer:always",
        "extendedKeyUsage = serverAuth",
        "keyUsage = digitalSignature,keyEncipherment",
    ]),
    "openssl-client.ext": "\n".join([
        "basicConstraints = CA:FALSE",
        "subjectKeyIdentifier = hash",
        "authorityKeyIdentifier = keyid,issuer:always",
        "extendedKeyUsage = clientAuth",
        "keyUsage = digitalSignature",
    ]),
    "ca.conf": "\n".join([
        "[ ca ]",
        "default_ca = CA_default",
        "[ CA_default ]",
        "dir = .",
        "certs = $dir/",
        "new_certs_dir = $dir/",
        "database = $dir/index.txt",
        "crlnumber = $dir/crl_number",
        "certificate = $dir/ca.crt",
        "private_key = $dir/ca-key.pem",
        "default_days = 3650",
        "default_crl_days = 30",
        "default_md = sha256",
        "preserve = no",
        "[ crl_ext ]",
        "authorityKeyIdentifier = keyid:always,issuer:always",
    ]),
    "crl_number": "00",
    "index.txt": "",
}


class BenchError(Exception):
    """A contestant failed or produced wrong output; the message says which and where."""


def run(command, cwd=None, env=None):
    """Run a command (argument list), its output captured; BenchError when it fails."""
    result = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout[-2000:] + result.stderr[-2000:]).strip()
        raise BenchError("%s failed (exit %d) in %s:\n%s" % (" ".join(command), result.returncode, cwd or os.getcwd(), output))
    return result


def client_names(count):
    return ["client%04d" % index for index in range(1, count + 1)]


def write_text(path, text, mode=0o644):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, mode)


def base64_text(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def tls_crypt_v2_client_key(server_key, path, name, cwd):
    """openvpn's own tls-crypt-v2 client key for name, the metadata given base64-encoded as openvpn wants it."""
    run(["openvpn", "--tls-crypt-v2", server_key, "--genkey", "tls-crypt-v2-client", path, base64_text(name)], cwd=cwd)


class Layout:
    """Where a contestant keeps its files, relative to its directory; client files are DIR/NAME.crt|key."""

    def __init__(self, ca, crl, server_certificate, certificate_dir, key_dir, tls_crypt_v2_dir):
        self.ca, self.crl, self.server_certificate = ca, crl, server_certificate
        self.certificate_dir, self.key_dir, self.tls_crypt_v2_dir = certificate_dir, key_dir, tls_crypt_v2_dir


OURS_LAYOUT = Layout("ca.crt", "crl.pem", "issued/server.crt", "issued", "private", "tls-crypt-v2/clients")
EASYRSA_LAYOUT = Layout("pki/ca.crt", "pki/crl.pem", "pki/issued/server.crt", "pki/issued", "pki/private", "tls-crypt-v2")
KYL191_LAYOUT = Layout("ca.crt", "ca-crl.pem", "server.crt", ".", ".", "tls-crypt-v2")


# Checks of the output

def client_files(directory, suffix):
    pattern = re.compile(r"(client\d+)%s" % re.escape(suffix))
    try:
        entries = os.listdir(directory)
    except OSError:
        return set()
    return set(match.group(1) for match in (pattern.fullmatch(entry) for entry in entries) if match)


def tls_crypt_v2_problem(path, name):
    """None when path holds a tls-crypt-v2 client key of the size a key wrapped with metadata `name` has."""
    with open(path, encoding="ascii") as handle:
        text = handle.read()
    match = re.search(r"-----BEGIN %s-----\s*(.*?)\s*-----END %s-----" % (TLS_CRYPT_V2_CLIENT_KEY_LABEL, TLS_CRYPT_V2_CLIENT_KEY_LABEL),
                      text, re.S)
    if not match:
        return "no %s PEM block" % TLS_CRYPT_V2_CLIENT_KEY_LABEL
    try:
        data = base64.b64decode("".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        return "not base64"
    wrapped_size = TLS_CRYPT_V2_WKC_OVERHEAD + len(name.encode("utf-8"))
    if len(data) != TLS_CRYPT_V2_KC_SIZE + wrapped_size or int.from_bytes(data[-2:], "big") != wrapped_size:
        return "%d bytes with WKc length %d, expected %d with %d (metadata %r)" % (
            len(data), int.from_bytes(data[-2:], "big"), TLS_CRYPT_V2_KC_SIZE + wrapped_size, wrapped_size, name)
    return None


def check_output(label, directory, layout, names):
    """BenchError unless the PKI in directory holds exactly the clients in names, and a sample of them verifies."""
    def path(*parts):
        return os.path.join(directory, *parts)

    wanted = set(names)
    for what, subdirectory, suffix in (("client certificates", layout.certificate_dir, ".crt"),
                                       ("client keys", layout.key_dir, ".key"),
                                       ("tls-crypt-v2 client keys", layout.tls_crypt_v2_dir, ".key")):
        found = client_files(path(subdirectory), suffix)
        if found != wanted:
            raise BenchError("%s: %d %s in %s, expected %d (missing %s, unexpected %s)" % (
                label, len(found), what, path(subdirectory), len(wanted), sorted(wanted - found)[:5], sorted(found - wanted)[:5]))
    verify = ["openssl", "verify", "-CAfile", path(layout.ca), "-crl_check", "-CRLfile", path(layout.crl)]
    run(verify + ["-purpose", "sslserver", path(layout.server_certificate)])
    ordered = sorted(names)
    for name in sorted(set([ordered[0], ordered[len(ordered) // 2], ordered[-1]])):
        certificate = path(layout.certificate_dir, name + ".crt")
        output = run(verify + ["-purpose", "sslclient", certificate]).stdout
        if not output.strip().endswith(": OK"):
            raise BenchError("%s: openssl verify did not say OK for %s: %s" % (label, certificate, output.strip()))
        subject = run(["openssl", "x509", "-in", certificate, "-noout", "-subject", "-nameopt", "multiline"]).stdout
        if not re.search(r"commonName\s*=\s*%s\s*$" % re.escape(name), subject, re.M):
            raise BenchError("%s: %s is not issued to %s: %s" % (label, certificate, name, subject.strip()))
        certified_key = run(["openssl", "x509", "-in", certificate, "-noout", "-pubkey"]).stdout
        held_key = run(["openssl", "pkey", "-in", path(layout.key_dir, name + ".key"), "-pubout"]).stdout
        if certified_key != held_key:
            raise BenchError("%s: the key file of %s does not hold the key of its certificate" % (label, name))
        problem = tls_crypt_v2_problem(path(layout.tls_crypt_v2_dir, name + ".key"), name)
        if problem:
            raise BenchError("%s: tls-crypt-v2 client key of %s: %s" % (label, name, problem))


# The contestants

class Ours:
    """The module, one fresh Python process per run, as Ansible runs it (minus AnsiballZ's packing)."""

    label = OURS
    layout = OURS_LAYOUT

    def __init__(self, python):
        self.python = python
        self.env = dict(os.environ, PYTHONPATH=COLLECTIONS_DIR, PYTHONDONTWRITEBYTECODE="1")

    def module(self, directory, names, args_name):
        """Run the module for a server and the clients in names; (seconds, result)."""
        args_path = os.path.join(os.path.dirname(directory), args_name)
        certificates = [{"name": SERVER_NAME, "kind": "server"}] + [{"name": name} for name in names]
        with open(args_path, "w", encoding="utf-8") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {"path": directory, "certificates": certificates, "tls_crypt_v2": True}}, handle)
        started = time.monotonic()
        process = subprocess.run([self.python, MODULE, args_path], env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                                 text=True, check=False)
        elapsed = time.monotonic() - started
        try:
            result = json.loads(process.stdout)
        except ValueError:
            result = None
        if process.returncode != 0 or not isinstance(result, dict) or result.get("failed"):
            raise BenchError("%s: the module failed (exit %d) for %s:\n%s" % (
                self.label, process.returncode, directory, (process.stdout[-3000:] + process.stderr[-2000:]).strip()))
        return elapsed, result

    def run(self, workdir, count):
        directory = os.path.join(workdir, "pki")
        names = client_names(count)
        seconds, result = self.module(directory, names, "args.json")
        if not result["changed"]:
            raise BenchError("%s: the first run in an empty directory reported changed=false" % self.label)
        check_output(self.label, directory, self.layout, names)

        rerun_seconds, rerun = self.module(directory, names, "args.json")
        if rerun["changed"] or rerun["changed_paths"]:
            raise BenchError("%s: the rerun with unchanged options reported changed=%s, wrote %s" % (
                self.label, rerun["changed"], rerun["changed_paths"][:5]))

        added = "client%04d" % (count + 1)
        add_seconds, add_one = self.module(directory, names + [added], "args-add-one.json")
        actions = dict((name, entry["action"]) for name, entry in add_one["certificates"].items())
        if actions.pop(added) != "issued" or set(actions.values()) != {"kept"}:
            raise BenchError("%s: adding %s did not issue just that one: %s" % (
                self.label, added, sorted(name for name, action in actions.items() if action != "kept")[:5]))
        check_output(self.label, directory, self.layout, names + [added])
        return {"seconds": seconds, "rerun_seconds": rerun_seconds, "add_one_seconds": add_seconds,
                "files_written": len(result["changed_paths"]),
                "add_one_files_written": [os.path.relpath(path, directory) for path in add_one["changed_paths"]]}


class EasyRSA:
    """easy-rsa 3, one command per certificate, its settings given as the EASYRSA_* variables it documents."""

    layout = EASYRSA_LAYOUT

    def __init__(self, label, algorithm_env):
        self.label = label
        # Nothing from the caller's environment may pick other easy-rsa settings.
        base = dict((key, value) for key, value in os.environ.items() if not key.startswith("EASYRSA"))
        self.env = dict(base, EASYRSA_BATCH="1", **algorithm_env)

    def run(self, workdir, count):
        env = dict(self.env, EASYRSA_PKI=os.path.join(workdir, "pki"))
        names = client_names(count)
        tls_crypt_v2_dir = os.path.join(workdir, self.layout.tls_crypt_v2_dir)
        server_key = os.path.join(tls_crypt_v2_dir, "server.key")
        started = time.monotonic()
        run([EASYRSA, "init-pki"], cwd=workdir, env=env)
        run([EASYRSA, "build-ca", "nopass"], cwd=workdir, env=dict(env, EASYRSA_REQ_CN=CA_COMMON_NAME))
        run([EASYRSA, "build-server-full", SERVER_NAME, "nopass"], cwd=workdir, env=env)
        os.mkdir(tls_crypt_v2_dir, 0o700)
        run(["openvpn", "--genkey", "tls-crypt-v2-server", server_key], cwd=workdir)
        for name in names:
            run([EASYRSA, "build-client-full", name, "nopass"], cwd=workdir, env=env)
            tls_crypt_v2_client_key(server_key, os.path.join(tls_crypt_v2_dir, name + ".key"), name, workdir)
        run([EASYRSA, "gen-crl"], cwd=workdir, env=env)
        seconds = time.monotonic() - started
        check_output(self.label, workdir, self.layout, names)
        return {"seconds": seconds}


class Kyl191Style:
    """The openssl commands of kyl191/ansible-role-openvpn, run directly (the role runs each as a command task)."""

    label = KYL191
    layout = KYL191_LAYOUT

    @staticmethod
    def run(workdir, count):
        names = client_names(count)
        for name, text in KYL191_FILES.items():
            write_text(os.path.join(workdir, name), text + "\n" if text else "", 0o400 if name.endswith(".ext") else 0o644)
        server_key = os.path.join(KYL191_LAYOUT.tls_crypt_v2_dir, "server.key")
        sign = ["-sha256", "-days", "3650"]
        started = time.monotonic()
        run(["openssl", "req", "-nodes", "-newkey", "rsa:2048", "-keyout", "ca-key.pem", "-out", "ca-csr.pem",
             "-subj", "/CN=%s/" % CA_COMMON_NAME], cwd=workdir)
        run(["openssl", "x509", "-req", "-in", "ca-csr.pem", "-out", "ca.crt", "-CAcreateserial", "-signkey", "ca-key.pem"]
            + sign + ["-extfile", "openssl-ca.ext"], cwd=workdir)
        run(["openssl", "req", "-nodes", "-newkey", "rsa:2048", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=%s/" % SERVER_NAME], cwd=workdir)
        run(["openssl", "x509", "-req", "-in", "server.csr", "-out", "server.crt", "-CA", "ca.crt", "-CAkey", "ca-key.pem"]
            + sign + ["-CAcreateserial", "-extfile", "openssl-server.ext"], cwd=workdir)
        os.mkdir(os.path.join(workdir, KYL191_LAYOUT.tls_crypt_v2_dir), 0o700)
        run(["openvpn", "--genkey", "tls-crypt-v2-server", server_key], cwd=workdir)
        for name in names:
            run(["openssl", "req", "-nodes", "-newkey", "rsa:2048", "-keyout", name + ".key", "-out", name + ".csr",
                 "-subj", "/CN=%s/" % name], cwd=workdir)
            run(["openssl", "x509", "-req", "-in", name + ".csr", "-out", name + ".crt", "-CA", "ca.crt", "-CAkey", "ca-key.pem"]
                + sign + ["-extfile", "openssl-client.ext"], cwd=workdir)
            tls_crypt_v2_client_key(server_key, os.path.join(KYL191_LAYOUT.tls_crypt_v2_dir, name + ".key"), name, workdir)
        run(["openssl", "ca", "-gencrl", "-config", "ca.conf", "-out", "ca-crl.pem"], cwd=workdir)
        seconds = time.monotonic() - started
        check_output(KYL191, workdir, KYL191_LAYOUT, names)
        return {"seconds": seconds}


# Machine and report

def first_line(command, pattern=None):
    try:
        output = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    except OSError:
        return "not found"
    for line in output.splitlines():
        if pattern is None and line.strip():
            return line.strip()
        match = re.search(pattern, line) if pattern else None
        if match:
            return match.group(1)
    return "unknown"


def filesystem_of(path):
    """The type of the file system holding path (the mount point with the longest matching prefix)."""
    path = os.path.realpath(path)
    best, best_type = "", "unknown"
    try:
        with open("/proc/self/mounts", encoding="utf-8") as handle:
            for line in handle:
                fields = line.split()
                mount_point = fields[1].replace("\\040", " ")
                inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
                if inside and len(mount_point) >= len(best):
                    best, best_type = mount_point, fields[2]
    except OSError:
        pass
    return best_type


def machine_description(python, workdir):
    versions = json.loads(run([python, "-c", "import json, platform, cryptography, ansible.release; print(json.dumps(dict("
                               "python=platform.python_version(), cryptography=cryptography.__version__, "
                               "ansible_core=ansible.release.__version__)))"]).stdout)
    return {
        "host": platform.node(), "cores": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release(),
        "python": versions["python"], "cryptography": versions["cryptography"], "ansible_core": versions["ansible_core"],
        "openssl": first_line(["openssl", "version"], r"^(OpenSSL \S+)"),
        "easy_rsa": first_line([EASYRSA, "--version"], r"^Version:\s*(\S+)"),
        "openvpn": first_line(["openvpn", "--version"], r"^(OpenVPN \S+)"),
        "filesystem": filesystem_of(workdir),
    }


def summarise(label, count, samples):
    row = {"label": label, "clients": count, "runs": len(samples), "seconds": spread([s["seconds"] for s in samples]),
           "samples": samples}
    row["per_client_ms"] = row["seconds"]["median"] / count * 1000
    if label == OURS:
        row["rerun_seconds"] = spread([s["rerun_seconds"] for s in samples])
        row["add_one_seconds"] = spread([s["add_one_seconds"] for s in samples])
    return row


def ratios(rows):
    by_key = dict(((row["label"], row["clients"]), row) for row in rows)
    result = []
    for count in sorted(set(row["clients"] for row in rows)):
        ours = by_key[(OURS, count)]["seconds"]["median"]
        entry = {"clients": count}
        for label, key in ((EASYRSA_EC, "ours_per_easyrsa_ec"), (EASYRSA_RSA, "ours_per_easyrsa_rsa"), (KYL191, "ours_per_kyl191")):
            entry[key] = ours / by_key[(label, count)]["seconds"]["median"]
        entry["meets_target_ec"] = entry["ours_per_easyrsa_ec"] <= TARGET_RATIO
        entry["meets_target_rsa"] = entry["ours_per_easyrsa_rsa"] <= TARGET_RATIO
        result.append(entry)
    return result


def marginal_costs(rows):
    """Per contestant, the cost of one more client between the smallest and the largest N (ms), without the fixed part."""
    costs = {}
    for label in DESCRIPTIONS:
        own = sorted((row for row in rows if row["label"] == label), key=lambda row: row["clients"])
        if len(own) >= 2 and own[-1]["clients"] > own[0]["clients"]:
            costs[label] = ((own[-1]["seconds"]["median"] - own[0]["seconds"]["median"])
                            / (own[-1]["clients"] - own[0]["clients"]) * 1000)
    return costs


def markdown(report):
    machine = report["machine"]
    lines = [
        "# OpenVPN PKI: issuing N client certificates with tls-crypt-v2 keys",
        "",
        "Measured %s on %s (%d cores, %s), kernel %s, file system %s; Python %s, cryptography %s, ansible-core %s, %s, "
        "easy-rsa %s, %s; overlaynet.vpn %s." % (
            report["date"], machine["host"], machine["cores"], machine["cpu"], machine["kernel"], machine["filesystem"],
            machine["python"], machine["cryptography"], machine["ansible_core"], machine["openssl"], machine["easy_rsa"],
            machine["openvpn"], report["commit"]),
        "",
        "Each run starts from an empty directory and makes a CA, one server certificate, N client certificates with keys",
        "made on this machine, one tls-crypt-v2 client key per client (its name as metadata) and a CRL; times are",
        "wall-clock seconds of the whole job, median (min–max) of %d runs per contestant and N, the contestants in a rotating" % report["runs"],
        "order.",
        "Every run's output was checked (file counts and names; first, middle and last client: openssl verify against CA",
        "and CRL for sslclient, key matches certificate, tls-crypt-v2 key shape).",
        "",
    ]
    lines += ["- **%s**: %s" % (label, text) for label, text in DESCRIPTIONS.items()]
    lines += [
        "",
        "kyl191-style is the openssl command sequence of kyl191/ansible-role-openvpn (commit %s) timed on its own; the" % KYL191_COMMIT,
        "role runs each command as an Ansible task, so its real cost is higher. Its dhparam step is left out.",
        "",
        "| contestant | clients | seconds, median (min–max) | per client (ms) |",
        "|---|---|---|---|",
    ]
    for row in report["rows"]:
        lines.append("| %s | %d | %s | %.1f |" % (row["label"], row["clients"], spread_text(row["seconds"]), row["per_client_ms"]))
    lines += [
        "",
        "The target is ours ≤ %.2f× easy-rsa: met against easy-rsa as the issue runs it (`build-client-full … nopass`," % TARGET_RATIO,
        "its default RSA 2048 keys) when the RSA column says so; the EC column holds us to the stricter comparison with",
        "easy-rsa making the same keys as ours.",
        "",
        "| clients | ours / easy-rsa EC | ours / easy-rsa RSA | ours / kyl191-style | target vs easy-rsa RSA (its defaults) "
        "| target vs easy-rsa EC (same keys) |",
        "|---|---|---|---|---|---|",
    ]
    for entry in report["ratios"]:
        lines.append("| %d | %.4f | %.4f | %.4f | %s | %s |" % (
            entry["clients"], entry["ours_per_easyrsa_ec"], entry["ours_per_easyrsa_rsa"], entry["ours_per_kyl191"],
            "met" if entry["meets_target_rsa"] else "missed", "met" if entry["meets_target_ec"] else "missed"))
    lines += [
        "",
        "Ours on the same directory after the first run: a rerun with unchanged options (changed=false, nothing",
        "written) and a run that adds one client (that one issued, every other kept):",
        "",
        "| clients | first run | rerun | add one client |",
        "|---|---|---|---|",
    ]
    for row in report["rows"]:
        if row["label"] == OURS:
            lines.append("| %d | %s | %s | %s |" % (row["clients"], spread_text(row["seconds"]), spread_text(row["rerun_seconds"]),
                                                    spread_text(row["add_one_seconds"])))
    if report["marginal_ms"]:
        lines += ["", "Cost of one more client between the smallest and the largest N (ms, fixed costs left out): " + ", ".join(
            "%s %.1f" % (label, cost) for label, cost in report["marginal_ms"].items()) + "."]
    lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 500], help="numbers of client certificates (N)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results"),
                        help="directory for openvpn-pki.md and openvpn-pki.json")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter that runs the module; it needs ansible-core (the venv of `make setup`)")
    parser.add_argument("--workdir", default=os.path.join(ROOT, "build", "bench", "openvpn-pki"),
                        help="where the temporary PKI directories are made")
    args = parser.parse_args()
    if any(count < 1 for count in args.clients) or args.runs < 1:
        parser.error("--clients needs 1 or more clients, --runs at least 1")
    require_collection_link(parser, ROOT)
    for binary in (EASYRSA, "openssl", "openvpn"):
        if not shutil.which(binary):
            parser.error("%s is not installed; `make setup` installs easy-rsa, openssl and openvpn" % binary)
    os.makedirs(args.workdir, exist_ok=True)
    os.makedirs(args.output, exist_ok=True)
    try:
        machine = machine_description(args.python, args.workdir)
    except BenchError as exc:
        parser.error("%s cannot import ansible-core and cryptography; use the venv of `make setup`:\n%s" % (args.python, exc))

    contestants = [Ours(args.python), EasyRSA(EASYRSA_EC, {"EASYRSA_ALGO": "ec", "EASYRSA_CURVE": "secp384r1"}),
                   EasyRSA(EASYRSA_RSA, {}), Kyl191Style()]
    rows = []
    for count in sorted(args.clients):
        samples = dict((contestant.label, []) for contestant in contestants)
        for run_index in range(args.runs):
            for contestant in turn_order(contestants, run_index):
                workdir = tempfile.mkdtemp(prefix="%s-n%d-" % (contestant.label.replace(" ", "-"), count), dir=args.workdir)
                try:
                    sample = contestant.run(workdir, count)
                except BenchError as exc:
                    raise SystemExit("bench: %s (its directory is kept: %s)" % (exc, workdir))
                shutil.rmtree(workdir)
                samples[contestant.label].append(sample)
                line = "bench: %s N=%d run %d: %.2f s (%.1f ms per client)" % (
                    contestant.label, count, run_index + 1, sample["seconds"], sample["seconds"] / count * 1000)
                if contestant.label == OURS:
                    line += ", rerun %.2f s (changed=false), add one %.2f s" % (sample["rerun_seconds"], sample["add_one_seconds"])
                print(line + ", output checked", file=sys.stderr)
        rows.extend(summarise(contestant.label, count, samples[contestant.label]) for contestant in contestants)

    report = {"date": datetime.date.today().isoformat(), "commit": commit_description(ROOT), "machine": machine,
              "runs": args.runs, "clients": sorted(args.clients), "target_ratio": TARGET_RATIO, "descriptions": DESCRIPTIONS,
              "kyl191_commit": KYL191_COMMIT, "rows": rows, "ratios": ratios(rows), "marginal_ms": marginal_costs(rows)}
    write_report(args.output, "openvpn-pki", report, markdown(report))


if __name__ == "__main__":
    main()
