#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: openvpn_pki
short_description: Keep the PKI of an OpenVPN network in a directory on the controller
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Keeps a certificate authority, the certificates it issues to OpenVPN servers and clients, their revocations, the CRL
    and the tls-crypt-v2 keys in one directory. Run it on the controller with C(delegate_to=localhost) and C(run_once=true);
    it is written with the Python C(cryptography) package, which ansible-core already depends on.
  - A certificate is issued for the key of a certificate signing request made on the host that uses the key (O(certificates[].csr)),
    so that the key never leaves that host, or for a key made here for clients Ansible does not manage.
  - An existing certificate is kept while it is signed by this CA, has the wanted key, name, kind and subject alt names,
    is not revoked and does not expire within O(renew_before_days). Otherwise a new one is issued, with a new random
    128-bit serial. A certificate replaced because its key or its kind changed is revoked as superseded; one replaced because
    it expires soon or its subject alt names changed stays valid until it expires, so that a host missing the run keeps working.
  - A name that was revoked and is listed again gets a new certificate, and a new key when the key is made here; the revoked
    certificate and key are never used again.
  - Server certificates carry the extended key usage serverAuth and client certificates clientAuth, which is what OpenVPN's
    C(remote-cert-tls server) and C(remote-cert-tls client) check. Keys are EC (secp384r1) unless RSA is asked for;
    every signature is SHA-256.
  - The CRL is signed again only when the revoked certificates changed, its next update is within O(crl_renew_before_days),
    the CA changed, or it is missing or invalid; each new CRL gets the next CRL number.
  - Files are compared before they are written and only those that differ are written, atomically and with their mode from the
    first byte; a run that changes nothing writes nothing.
  - No private key, tls-crypt-v2 key or passphrase is returned, shown in a diff or put into a message. The result holds
    public certificates and the paths of the key files, which the role copies itself.
  - 'Layout of O(path) (mode C(0700)): C(ca.crt) (C(0644)), C(ca.key) (C(0600)), C(issued/<name>.crt) (C(0644)),
    C(private/<name>.key) (C(0600), only keys made here), C(crl.pem) (C(0644)), C(state.json) (C(0600); serial, kind,
    expiry and status per name, the revoked serials, the CRL number, and SHA-256 digests that let a later run recognise
    unchanged files without parsing them), C(tls-crypt-v2/server.key) and C(tls-crypt-v2/clients/<name>.key) (C(0600)).'
options:
  path:
    description:
      - Directory of the PKI on the controller. It is created with mode C(0700) when it does not exist.
    type: path
    required: true
  ca:
    description:
      - The certificate authority.
      - The key and name options are used only when O(path) has no CA yet. An existing CA is never replaced by changing them
        (the module warns when they differ); import a CA to replace it.
    type: dict
    default: {}
    suboptions:
      common_name:
        description: Common name of a new CA certificate.
        type: str
        default: overlaynet.vpn OpenVPN CA
      key_type:
        description: Type of the key of a new CA.
        type: str
        choices: [ec, rsa]
        default: ec
      ec_curve:
        description: Curve of a new EC CA key.
        type: str
        choices: [secp256r1, secp384r1, secp521r1]
        default: secp384r1
      rsa_key_size:
        description: Size in bits of a new RSA CA key.
        type: int
        choices: [2048, 3072, 4096]
        default: 3072
      validity_days:
        description: Days a new CA certificate is valid.
        type: int
        default: 3650
      import_certificate_path:
        description:
          - PEM file on the controller with the certificate of an existing CA to use instead of making one.
          - It must be a CA certificate (basicConstraints CA:TRUE) whose key is in O(ca.import_private_key_path).
          - When it differs from the CA in O(path), it replaces it, and every certificate the old CA issued is issued again by this one.
          - Must be given together with O(ca.import_private_key_path).
        type: path
      import_private_key_path:
        description:
          - PEM file on the controller with the private key of O(ca.import_certificate_path).
          - It is stored unencrypted (mode C(0600)) as C(ca.key) in O(path), since every later run may have to sign a CRL.
        type: path
      import_private_key_passphrase:
        description: Passphrase of an encrypted O(ca.import_private_key_path).
        type: str
  certificates:
    description:
      - The certificates to keep. Names in the PKI that are not listed are left alone unless O(revoke_unlisted=true).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name of the certificate, its common name and the name of its files.
          - 1 to 64 letters, digits, C(.), C(_) or C(-), not starting with C(.) or C(-).
        type: str
        required: true
      kind:
        description:
          - V(server) gives the extended key usage serverAuth, V(client) clientAuth.
          - Each client gets a tls-crypt-v2 client key when O(tls_crypt_v2=true).
        type: str
        choices: [server, client]
        default: client
      csr:
        description:
          - PEM text of a certificate signing request made on the host that uses the key. Its signature must verify.
            Only its public key is used; the subject and extensions of the certificate come from the other options.
          - When omitted, the key is made here and kept in C(private/<name>.key) (for clients Ansible does not manage).
            When given, a key made here earlier for this name is removed.
        type: str
      subject_alt_names:
        description:
          - Subject alternative names, each C(DNS:<name>) or C(IP:<address>). Usual for servers; a server without them is allowed.
        type: list
        elements: str
        default: []
      key_type:
        description: Type of a key made here. Ignored with O(certificates[].csr).
        type: str
        choices: [ec, rsa]
        default: ec
      ec_curve:
        description: Curve of an EC key made here.
        type: str
        choices: [secp256r1, secp384r1, secp521r1]
        default: secp384r1
      rsa_key_size:
        description: Size in bits of an RSA key made here.
        type: int
        choices: [2048, 3072, 4096]
        default: 3072
      validity_days:
        description: Days a new certificate is valid. Must be greater than O(renew_before_days).
        type: int
        default: 825
  keep:
    description:
      - Names whose certificate, if the PKI has one, stays as it is, neither checked nor issued again, and is not revoked by
        O(revoke_unlisted). For hosts that keep their key but whose signing request is not at hand in this run (outside
        C(--limit), or unreachable); a name the PKI never issued is not issued either.
      - A name must not be in O(certificates) or O(revoke).
    type: list
    elements: str
    default: []
  renew_before_days:
    description: A certificate that expires within this many days is issued again.
    type: int
    default: 30
  revoke:
    description:
      - Names whose certificates are revoked. Their certificate, key and tls-crypt-v2 client key files are removed; the
        serials stay in the CRL.
      - A name must have been issued by this PKI and must not be in O(certificates). Revoking a revoked name changes nothing.
    type: list
    elements: str
    default: []
  revoke_unlisted:
    description:
      - Revoke every valid client certificate of the PKI whose name is not in O(certificates). Server certificates are
        never revoked this way.
    type: bool
    default: false
  crl_validity_days:
    description: Days from the signing of a new CRL to its next update.
    type: int
    default: 180
  crl_renew_before_days:
    description:
      - A CRL whose next update is within this many days is signed again, so that a CRL never goes stale while the module runs
        at least that often. Must be less than O(crl_validity_days).
    type: int
    default: 90
  crl_signed_ahead:
    description:
      - How many CRLs to keep signed ahead, in O(path)/crl-ahead.pem (PEM blocks, the next first). Each lists the same revoked
        certificates as the CRL and becomes valid O(crl_validity_days) minus O(crl_renew_before_days) days after the one
        before it, the day a run would sign the CRL again; they are signed again with the CRL.
      - A server keeps them and puts each in place when its day comes (the P(overlaynet.vpn.openvpn_server#role) role's
        daily timer does), so it keeps accepting clients for O(crl_signed_ahead) times that many days longer when no run
        reaches it. Revoking still takes a run.
      - V(0) keeps none (and removes the file).
    type: int
    default: 0
  tls_crypt_v2:
    description:
      - Keep a tls-crypt-v2 server key and one client key per client listed in O(certificates), with the client's name as
        metadata. A client key is kept while it is wrapped by the server key with that name.
      - The client key of a revoked client, or of a name that became a server, is removed even when this is V(false).
    type: bool
    default: true
  tls_crypt:
    description:
      - Keep a tls-crypt (version 1) static key, C(tls-crypt.key) (C(0600)), shared by the server and every client, for
        servers that use C(tls-crypt) instead of C(tls-crypt-v2). It is made once and kept while it is valid.
    type: bool
    default: false
extends_documentation_fragment:
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - Nothing is written. C(changed), RV(changed_paths) and each RV(certificates[].action) say what would happen.
      - A certificate that would be issued has RV(certificates[].serial) and RV(certificates[].certificate) V(null), and a CA
        that would be made has RV(ca_certificate) V(null), since their content is random until they are made.
  diff_mode:
    support: full
    details:
      - The diff lists, before and after, the CA fingerprint, the CRL number and serials, and each name with its kind,
        serial, status and whether it has a tls-crypt-v2 key. It never shows key material.
requirements:
  - cryptography (on the controller; ansible-core depends on it)
notes:
  - Run it on the controller only (C(delegate_to=localhost), C(run_once=true)); the PKI directory is not meant to be on a VPN host.
  - Serials in the result and in C(state.json) are upper-case hexadecimal, as C(openssl x509 -serial) prints them.
seealso:
  - name: OpenVPN reference manual
    description: The C(remote-cert-tls), C(crl-verify) and C(tls-crypt-v2) options.
    link: https://openvpn.net/community-resources/reference-manual-for-openvpn-2-6/
'''

EXAMPLES = r'''
- name: Make the server's key on the server, once (it never leaves that host)
  ansible.builtin.command:
    cmd: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp384r1 -out /etc/openvpn/server/vpn1.key
    creates: /etc/openvpn/server/vpn1.key

- name: Make a certificate signing request for that key
  ansible.builtin.command:
    cmd: openssl req -new -key /etc/openvpn/server/vpn1.key -subj /CN=vpn1
  register: server_csr
  changed_when: false

- name: Keep the PKI on the controller
  overlaynet.vpn.openvpn_pki:
    path: "{{ playbook_dir }}/pki/openvpn"
    certificates:
      - name: vpn1
        kind: server
        csr: "{{ server_csr.stdout }}"
        subject_alt_names:
          - DNS:vpn1.example.org
          - IP:192.0.2.10
      - name: alice-laptop
      - name: bob-phone
        validity_days: 365
  delegate_to: localhost
  run_once: true
  register: openvpn_pki

- name: Show what happened to each certificate
  ansible.builtin.debug:
    msg: "{{ item.key }}: {{ item.value.action }} {{ item.value.reason | default('', true) }}"
  loop: "{{ openvpn_pki.certificates | dict2items }}"
  loop_control:
    label: "{{ item.key }}"

- name: Revoke bob-phone; its certificate, key and tls-crypt-v2 key files go, its serial goes into the CRL
  overlaynet.vpn.openvpn_pki:
    path: "{{ playbook_dir }}/pki/openvpn"
    certificates:
      - name: vpn1
        kind: server
        csr: "{{ server_csr.stdout }}"
        subject_alt_names:
          - DNS:vpn1.example.org
          - IP:192.0.2.10
      - name: alice-laptop
    revoke:
      - bob-phone
  delegate_to: localhost
  run_once: true

- name: Use an existing CA and revoke every client that is no longer listed
  overlaynet.vpn.openvpn_pki:
    path: "{{ playbook_dir }}/pki/openvpn-imported"
    ca:
      import_certificate_path: "{{ playbook_dir }}/files/ca.crt"
      import_private_key_path: "{{ playbook_dir }}/files/ca.key"
      import_private_key_passphrase: "{{ openvpn_ca_passphrase | default(omit) }}"
    certificates:
      - name: alice-laptop
    revoke_unlisted: true
  delegate_to: localhost
  run_once: true

- name: An RSA CA and an RSA client key, without tls-crypt-v2
  overlaynet.vpn.openvpn_pki:
    path: "{{ playbook_dir }}/pki/openvpn-rsa"
    ca:
      key_type: rsa
      rsa_key_size: 4096
    certificates:
      - name: legacy-client
        key_type: rsa
        rsa_key_size: 2048
    tls_crypt_v2: false
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
ca_certificate:
  description:
    - PEM of the CA certificate (public).
    - V(null) in check mode when a new CA would be made.
  returned: always
  type: str
  sample: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
ca_path:
  description: Path of the CA certificate file.
  returned: always
  type: str
  sample: /home/me/pki/openvpn/ca.crt
crl_path:
  description: Path of the CRL file (PEM), for OpenVPN's C(crl-verify).
  returned: always
  type: str
  sample: /home/me/pki/openvpn/crl.pem
crl_next_update:
  description: Next update of the CRL (the current one, or the one that is or would be signed), ISO 8601 in UTC.
  returned: always
  type: str
  sample: '2026-12-01T10:00:00Z'
crl_ahead_path:
  description: Absolute path of the CRLs signed ahead on the controller; null when O(crl_signed_ahead) is V(0).
  returned: always
  type: str
  sample: /home/me/pki/openvpn/crl-ahead.pem
crl_covered_until:
  description:
    - Next update of the last CRL signed ahead (of the CRL when O(crl_signed_ahead) is V(0)), ISO 8601 in UTC. Until then a
      server that puts each CRL signed ahead in place on its day accepts its clients without a run.
  returned: always
  type: str
  sample: '2028-05-24T10:00:00Z'
certificates:
  description: Each certificate of O(certificates), by name.
  returned: always
  type: dict
  contains:
    kind:
      description: V(server) or V(client).
      type: str
      sample: client
    serial:
      description:
        - Serial number, upper-case hexadecimal.
        - V(null) in check mode when a new certificate would be issued.
      type: str
      sample: 5F3A0C9E12B44D7AA1C0FFEE12345678
    not_after:
      description: End of validity, ISO 8601 in UTC (of the new certificate when one is or would be issued).
      type: str
      sample: '2028-03-05T10:00:00Z'
    certificate:
      description:
        - PEM of the certificate (public).
        - V(null) in check mode when a new certificate would be issued.
      type: str
      sample: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
    certificate_path:
      description: Path of the certificate file.
      type: str
      sample: /home/me/pki/openvpn/issued/alice-laptop.crt
    private_key_path:
      description: Path of the private key file made here (C(0600)). Only for certificates without O(certificates[].csr).
      type: str
      returned: when the key is made here
      sample: /home/me/pki/openvpn/private/alice-laptop.key
    tls_crypt_v2_key_path:
      description: Path of the client's tls-crypt-v2 key file (C(0600)).
      type: str
      returned: for clients when O(tls_crypt_v2=true)
      sample: /home/me/pki/openvpn/tls-crypt-v2/clients/alice-laptop.key
    action:
      description:
        - V(kept) - the existing certificate stays.
        - V(issued) - a certificate was (or would be) issued for a name that had none.
        - V(reissued) - the existing certificate was (or would be) replaced; RV(certificates[].reason) says why.
      type: str
      choices: [kept, issued, reissued]
      sample: issued
    reason:
      description:
        - Why a certificate is issued, for example V(new), V(new key), V(expires 2027-01-03), V(subject alt names changed),
          V(kind changed to server), V(issued by another CA), V(certificate 5F3A... was revoked).
        - V(null) when the certificate is kept.
      type: str
      sample: new
revoked:
  description: The names whose certificate is revoked (and not issued again since), by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the certificate.
      type: str
      sample: carol-laptop
    serial:
      description: Serial of the revoked certificate, upper-case hexadecimal.
      type: str
      sample: 0A1B2C3D4E5F60718293A4B5C6D7E8F9
    revocation_date:
      description: Date of the revocation, ISO 8601 in UTC.
      type: str
      sample: '2026-06-01T10:00:00Z'
tls_crypt_v2_server_key_path:
  description: Path of the tls-crypt-v2 server key file (C(0600)); V(null) when O(tls_crypt_v2=false).
  returned: always
  type: str
  sample: /home/me/pki/openvpn/tls-crypt-v2/server.key
tls_crypt_key_path:
  description: Path of the tls-crypt (version 1) static key file (C(0600)); V(null) when O(tls_crypt=false).
  returned: always
  type: str
  sample: /home/me/pki/openvpn/tls-crypt.key
changed_paths:
  description: The files that were (or in check mode would be) written, removed or given another mode, in the order of writing.
  returned: always
  type: list
  elements: str
  sample: [/home/me/pki/openvpn/issued/alice-laptop.crt, /home/me/pki/openvpn/state.json]
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.overlaynet.vpn.plugins.module_utils import _x509
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_pki import OpenVPNPKIError, run
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509 import (
    DEFAULT_EC_CURVE,
    DEFAULT_KEY_TYPE,
    DEFAULT_RSA_KEY_SIZE,
    EC_CURVES,
    KEY_TYPES,
    KINDS,
    RSA_KEY_SIZES,
)


def run_module(module):
    if not _x509.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=_x509.CRYPTOGRAPHY_IMPORT_ERROR)
    try:
        result = run(module.params, check_mode=module.check_mode, diff=module._diff)
    except (OpenVPNPKIError, _x509.X509Error) as exc:
        module.fail_json(msg=to_native(exc))
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot write the PKI in %s: %s%s' % (module.params['path'], to_native(exc.strerror or exc.__class__.__name__),
                                                                   ' (%s)' % exc.filename if exc.filename else ''))
    for warning in result.pop('warnings'):
        module.warn(warning)
    return result


def main():
    key_options = dict(
        key_type=dict(type='str', default=DEFAULT_KEY_TYPE, choices=KEY_TYPES, no_log=False),
        ec_curve=dict(type='str', default=DEFAULT_EC_CURVE, choices=EC_CURVES),
        rsa_key_size=dict(type='int', default=DEFAULT_RSA_KEY_SIZE, choices=RSA_KEY_SIZES, no_log=False),
    )
    ca_options = dict(
        common_name=dict(type='str', default='overlaynet.vpn OpenVPN CA'),
        validity_days=dict(type='int', default=3650),
        import_certificate_path=dict(type='path'),
        import_private_key_path=dict(type='path', no_log=False),
        import_private_key_passphrase=dict(type='str', no_log=True),
    )
    ca_options.update(key_options)
    certificate_options = dict(
        name=dict(type='str', required=True),
        kind=dict(type='str', default='client', choices=KINDS),
        csr=dict(type='str'),
        subject_alt_names=dict(type='list', elements='str', default=[]),
        validity_days=dict(type='int', default=825),
    )
    certificate_options.update(key_options)
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            ca=dict(type='dict', default={}, options=ca_options,
                    required_together=[['import_certificate_path', 'import_private_key_path']]),
            certificates=dict(type='list', elements='dict', default=[], options=certificate_options),
            renew_before_days=dict(type='int', default=30),
            keep=dict(type='list', elements='str', default=[]),
            revoke=dict(type='list', elements='str', default=[]),
            revoke_unlisted=dict(type='bool', default=False),
            crl_validity_days=dict(type='int', default=180),
            crl_renew_before_days=dict(type='int', default=90),
            crl_signed_ahead=dict(type='int', default=0),
            tls_crypt_v2=dict(type='bool', default=True, no_log=False),
            tls_crypt=dict(type='bool', default=False, no_log=False),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == '__main__':
    main()
