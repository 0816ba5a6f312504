#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: x509_key_request
short_description: Keep an X.509 private key on a VPN host and return a certificate signing request for it
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Makes sure a file on the target holds an X.509 private key (EC or RSA) and returns a certificate signing request (CSR)
    for it, so that the CA on the controller (M(overlaynet.vpn.openvpn_pki)) signs the request and the private key never
    leaves the host. Meant for the hosts of a VPN that uses certificates, such as OpenVPN servers and clients.
  - A new key is written as unencrypted PKCS#8 PEM, atomically and with mode C(0600) from its first byte. An existing key in
    the traditional PEM format (C(BEGIN EC PRIVATE KEY), C(BEGIN RSA PRIVATE KEY)) is used and kept as it is.
  - The CSR has O(common_name) as the common name (CN) of its subject and no requested extensions (the CA decides server or
    client use), and is signed with the key and SHA-256. It is made on every run in which the host has a key, check mode included.
  - With O(certificate_path), the module also tells whether the certificate there holds the key's public key and when it
    expires, so that the CA need not be asked when nothing has to change.
  - The private key is never returned, shown in a diff or put into a message. The owner, group and mode of the key file are
    enforced on every run, also when an existing key is kept.
requirements:
  - cryptography 3.1 or later on the target (Debian and Ubuntu package C(python3-cryptography), also on EL 9); the roles of this
    collection install it before they use this module.
options:
  path:
    description:
      - Path of the private key file, for example C(/etc/openvpn/server/vpn1.key).
      - The parent directory is created with mode C(0700) when it does not exist.
    type: path
    required: true
  common_name:
    description:
      - Common name (CN) of the subject of the CSR, 1 to 64 characters.
      - It only labels the request; the CA may set the name of the certificate itself. It is required also with O(state=absent),
        where it is not used.
    type: str
    required: true
  key_type:
    description:
      - Type of a new key. An existing valid key of another type is kept unless O(regenerate) says otherwise.
    type: str
    choices: [ec, rsa]
    default: ec
  ec_curve:
    description:
      - Curve of a new EC key. Only used with O(key_type=ec).
    type: str
    choices: [secp256r1, secp384r1, secp521r1]
    default: secp384r1
  rsa_key_size:
    description:
      - Size in bits of a new RSA key. Only used with O(key_type=rsa).
    type: int
    choices: [2048, 3072, 4096]
    default: 3072
  regenerate:
    description:
      - When to write a new private key over an existing file.
      - V(never) keeps an existing valid key, also one of another type, curve or size than O(key_type), O(ec_curve) and
        O(rsa_key_size) ask for (with a warning). If the existing file does not hold an unencrypted EC or RSA private key in PEM,
        the module fails instead of replacing it, so that a key is never lost silently.
      - V(invalid) is V(never), except that a file that does not hold a valid key is replaced by a new key.
      - V(type_changed) is V(invalid), and also replaces a valid key whose type, curve (EC) or size (RSA) differs from the options.
      - V(always) writes a new key on every run. Use it for deliberate key rotation on the hosts that should rotate; the new
        key then needs a new certificate.
    type: str
    choices: [never, invalid, always, type_changed]
    default: never
  certificate_path:
    description:
      - Path of the certificate (PEM) issued for the key, for example C(/etc/openvpn/server/vpn1.crt).
      - When set, the module reads it, if present, and returns RV(certificate_matches_key), RV(certificate_not_after) and
        RV(certificate_sha256). A missing file, or one that does not hold a PEM certificate, is not an error; it gives
        RV(certificate_matches_key=false) and nulls.
      - The file is only read, never written; the caller installs the certificate the CA returns.
    type: path
  owner:
    description:
      - Name (or numeric id) of the user that should own the key file.
      - When unset, a new file belongs to the user running the module and an existing file keeps its owner.
    type: str
  group:
    description:
      - Name (or numeric id) of the group that should own the key file.
      - When unset, a new file gets that user's group and an existing file keeps its group.
    type: str
  mode:
    description:
      - Permissions of the key file, as an octal string such as V('0600') or in symbolic form.
      - Quote octal values in YAML so they stay strings.
    type: raw
    default: '0600'
  state:
    description:
      - V(present) makes sure the file holds a valid private key and returns a CSR for it.
      - V(absent) removes the key file (not the certificate). The other options except O(path) are not used then.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - When an existing valid key would be kept, its CSR and RV(public_key_sha256) are returned in check mode too (reading is harmless).
      - When a new key would be generated, RV(csr) and RV(public_key_sha256) are V(null); do not send such a result to the CA.
  diff_mode:
    support: full
    details:
      - The diff shows the key type and RV(public_key_sha256) before and after, and owner, group or mode changes. It never shows
        private key material.
notes:
  - The CSR text may differ from run to run for the same key, because ECDSA signatures are randomised. The CA compares public keys
    (RV(public_key_sha256)), not CSR texts, so a changed CSR does not mean a changed key and the module reports RV(changed=false).
seealso:
  - module: overlaynet.vpn.openvpn_pki
    description: Signs the CSR on the controller and keeps the PKI of an OpenVPN network.
  - name: RFC 2986
    description: 'PKCS #10, the format of certificate signing requests.'
    link: https://www.rfc-editor.org/rfc/rfc2986
'''

EXAMPLES = r'''
- name: Keep the server's key on the server and make a signing request for it
  overlaynet.vpn.x509_key_request:
    path: /etc/openvpn/server/vpn1.key
    common_name: vpn1
    certificate_path: /etc/openvpn/server/vpn1.crt
  register: server_key

- name: Have the CA on the controller sign it when the certificate does not hold this key or expires within 30 days
  overlaynet.vpn.openvpn_pki:
    path: "{{ playbook_dir }}/pki/openvpn"
    certificates:
      - name: vpn1
        kind: server
        csr: "{{ server_key.csr }}"
  delegate_to: localhost
  register: openvpn_pki
  # csr is null in check mode when a new key would be generated: nothing to sign then.
  when:
    - server_key.csr is not none
    - >-
      not server_key.certificate_matches_key
      or (server_key.certificate_not_after | ansible.builtin.to_datetime('%Y-%m-%dT%H:%M:%SZ') - now(utc=true)).days < 30

- name: Install the certificate next to the key
  ansible.builtin.copy:
    content: "{{ openvpn_pki.certificates['vpn1'].certificate }}"
    dest: /etc/openvpn/server/vpn1.crt
    mode: '0644'
  when: openvpn_pki is not skipped

- name: An RSA key for a client, named after the host
  overlaynet.vpn.x509_key_request:
    path: /etc/openvpn/client/office.key
    common_name: "{{ inventory_hostname }}"
    key_type: rsa
    rsa_key_size: 4096
  register: client_key

- name: Show the fingerprint the CA compares
  ansible.builtin.debug:
    msg: "{{ client_key.public_key_sha256 }}"

- name: Replace the key when it is not an EC secp384r1 key (for example an older RSA key)
  overlaynet.vpn.x509_key_request:
    path: /etc/openvpn/server/vpn1.key
    common_name: vpn1
    regenerate: type_changed

- name: Rotate the key on the hosts flagged for rotation
  overlaynet.vpn.x509_key_request:
    path: /etc/openvpn/server/vpn1.key
    common_name: vpn1
    regenerate: always
  when: openvpn_rotate_key | default(false) | bool

- name: Remove the key file
  overlaynet.vpn.x509_key_request:
    path: /etc/openvpn/server/vpn1.key
    common_name: vpn1
    state: absent
'''

RETURN = r'''
csr:
  description:
    - PEM text of the certificate signing request for the key in O(path) (public material only), with O(common_name) as the common
      name of its subject, signed with the key and SHA-256.
    - It may differ between runs for the same key, because ECDSA signatures are randomised; compare RV(public_key_sha256) to tell
      whether the key changed.
    - V(null) when O(state=absent), and in check mode when a new key would be generated.
  returned: always
  type: str
  sample: "-----BEGIN CERTIFICATE REQUEST-----\nMIIBMDCBtwIBADAPMQ0wCwYDVQQDDAR2cG4x...\n-----END CERTIFICATE REQUEST-----\n"
public_key_sha256:
  description:
    - Hexadecimal SHA-256 of the DER SubjectPublicKeyInfo of the key's public key, as
      C(openssl pkey -in KEY -pubout -outform DER | sha256sum) prints it. The CA compares it with the key of a certificate.
    - V(null) when O(state=absent), and in check mode when a new key would be generated.
  returned: always
  type: str
  sample: 9f3c1e0d8a6b4f2e7d5c3b1a09f8e7d6c5b4a3928176e5d4c3b2a1908f7e6d5c
key_type:
  description:
    - Type of the key the CSR is for, V(ec) or V(rsa). With O(regenerate=never) or O(regenerate=invalid) it is the type of the
      kept key, which may differ from O(key_type).
    - In check mode, when a new key would be generated, the type it would have. V(null) when O(state=absent).
  returned: always
  type: str
  sample: ec
generated:
  description:
    - Whether a new private key was written to O(path) during this run.
    - Always V(false) in check mode, because nothing is written then.
  returned: always
  type: bool
  sample: true
action:
  description:
    - What happened (or in check mode would happen) to the key file.
    - V(none) - an existing key was kept (owner, group or mode may still have been fixed).
    - V(created) - a new key was generated because the file did not exist.
    - V(replaced) - an existing file was replaced by a new key (O(regenerate=always), O(regenerate=type_changed) and the key
      differs from the options, or the file did not hold a valid key).
    - V(removed) - the file was removed (O(state=absent)).
  returned: always
  type: str
  choices: [none, created, replaced, removed]
  sample: created
path:
  description: Path of the private key file.
  returned: always
  type: str
  sample: /etc/openvpn/server/vpn1.key
changed:
  description:
    - Whether a key was (or in check mode would be) created, replaced or removed, or the file's owner, group or mode was (or would
      be) fixed. A CSR made again for a kept key is no change.
  returned: always
  type: bool
  sample: false
certificate_matches_key:
  description:
    - Whether the certificate in O(certificate_path) holds the public key of the key in O(path) (after this run). Its expiry is not
      taken into account; see RV(certificate_not_after).
    - V(false) when O(certificate_path) is not set, the file is missing or does not hold a PEM certificate, O(state=absent), and in
      check mode when a new key would be generated.
  returned: always
  type: bool
  sample: true
certificate_not_after:
  description:
    - End of validity of the certificate in O(certificate_path), ISO 8601 in UTC (C(YYYY-MM-DDTHH:MM:SSZ)).
    - V(null) when O(certificate_path) is not set, the file is missing or does not hold a PEM certificate, or O(state=absent).
  returned: always
  type: str
  sample: '2028-03-05T10:00:00Z'
certificate_sha256:
  description:
    - Hexadecimal SHA-256 of the bytes of the file in O(certificate_path), to compare with the certificate the CA holds.
    - V(null) when O(certificate_path) is not set, the file is missing or does not hold a PEM certificate, or O(state=absent).
  returned: always
  type: str
  sample: 3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.overlaynet.vpn.plugins.module_utils import _x509
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509 import (
    DEFAULT_EC_CURVE,
    DEFAULT_KEY_TYPE,
    DEFAULT_RSA_KEY_SIZE,
    EC_CURVES,
    KEY_TYPES,
    RSA_KEY_SIZES,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509_key_request import CRYPTOGRAPHY_REASON, REGENERATE_MODES, KeyRequest


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            common_name=dict(type='str', required=True),
            key_type=dict(type='str', default=DEFAULT_KEY_TYPE, choices=KEY_TYPES),
            ec_curve=dict(type='str', default=DEFAULT_EC_CURVE, choices=EC_CURVES),
            rsa_key_size=dict(type='int', default=DEFAULT_RSA_KEY_SIZE, choices=RSA_KEY_SIZES),
            regenerate=dict(type='str', default='never', choices=REGENERATE_MODES),
            certificate_path=dict(type='path'),
            owner=dict(type='str'),
            group=dict(type='str'),
            mode=dict(type='raw', default='0600'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        supports_check_mode=True,
    )
    if not _x509.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography', reason=CRYPTOGRAPHY_REASON), exception=_x509.CRYPTOGRAPHY_IMPORT_ERROR)
    module.exit_json(**KeyRequest(module).run())


if __name__ == '__main__':
    main()
