# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ansible_collections.overlaynet.vpn.plugins.module_utils._x509_key_request import certificate_facts, decide_action
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.x509_helpers import NOT_AFTER_TEXT, certificate_pem, ec_key, rsa_key


# certificate_facts


def test_certificate_holding_the_key_matches():
    private_key = ec_key()
    data = certificate_pem(private_key.public_key()).encode('ascii')

    facts = certificate_facts(data, private_key)

    assert facts == dict(certificate_matches_key=True, certificate_not_after=NOT_AFTER_TEXT,
                         certificate_sha256=hashlib.sha256(data).hexdigest())


def test_certificate_of_another_key_does_not_match():
    data = certificate_pem(ec_key().public_key()).encode('ascii')

    facts = certificate_facts(data, ec_key())

    assert facts == dict(certificate_matches_key=False, certificate_not_after=NOT_AFTER_TEXT,
                         certificate_sha256=hashlib.sha256(data).hexdigest())


def test_certificate_of_an_rsa_key_does_not_match_an_ec_key_and_matches_its_own():
    rsa_private_key = rsa_key()
    data = certificate_pem(rsa_private_key.public_key()).encode('ascii')

    assert certificate_facts(data, ec_key())['certificate_matches_key'] is False
    assert certificate_facts(data, rsa_private_key)['certificate_matches_key'] is True


def test_certificate_without_a_key_yet_reports_its_expiry_only():
    data = certificate_pem(ec_key().public_key()).encode('ascii')

    facts = certificate_facts(data, None)

    assert facts == dict(certificate_matches_key=False, certificate_not_after=NOT_AFTER_TEXT,
                         certificate_sha256=hashlib.sha256(data).hexdigest())


def test_certificate_followed_by_its_chain_is_read_from_its_first_certificate():
    private_key = ec_key()
    data = (certificate_pem(private_key.public_key()) + certificate_pem(ec_key().public_key(), common_name='intermediate')).encode('ascii')

    facts = certificate_facts(data, private_key)

    assert facts['certificate_matches_key'] is True
    assert facts['certificate_sha256'] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize('data', [None, b'', b'not a certificate\n', bytes(range(256))], ids=['missing', 'empty', 'text', 'binary'])
def test_missing_or_unparsable_certificate_gives_no_match_and_nulls(data):
    assert certificate_facts(data, ec_key()) == dict(certificate_matches_key=False, certificate_not_after=None, certificate_sha256=None)


def test_der_certificate_counts_as_unparsable():
    private_key = ec_key()
    certificate = x509.load_pem_x509_certificate(certificate_pem(private_key.public_key()).encode('ascii'))

    facts = certificate_facts(certificate.public_bytes(serialization.Encoding.DER), private_key)

    assert facts == dict(certificate_matches_key=False, certificate_not_after=None, certificate_sha256=None)


# decide_action

EC384 = ('ec', 'secp384r1')
EC256 = ('ec', 'secp256r1')
RSA3072 = ('rsa', 3072)
REFUSAL = 'key file %s does not hold an unencrypted EC or RSA private key in PEM; refusing to replace it (regenerate=invalid replaces it)'


@pytest.mark.parametrize('state, regenerate, exists, existing_spec, wanted_spec, expected', [
    ('present', 'never', False, None, EC384, ('created', None)),
    ('present', 'always', False, None, EC384, ('created', None)),
    ('present', 'never', True, EC384, EC384, ('none', None)),
    ('present', 'never', True, RSA3072, EC384, ('none', None)),
    ('present', 'never', True, None, EC384, (None, REFUSAL)),
    ('present', 'invalid', True, None, EC384, ('replaced', None)),
    ('present', 'invalid', True, EC384, EC384, ('none', None)),
    ('present', 'invalid', True, EC256, EC384, ('none', None)),
    ('present', 'always', True, EC384, EC384, ('replaced', None)),
    ('present', 'always', True, None, EC384, ('replaced', None)),
    ('present', 'type_changed', True, EC384, EC384, ('none', None)),
    ('present', 'type_changed', True, EC256, EC384, ('replaced', None)),
    ('present', 'type_changed', True, RSA3072, EC384, ('replaced', None)),
    ('present', 'type_changed', True, ('rsa', 2048), RSA3072, ('replaced', None)),
    ('present', 'type_changed', True, None, EC384, ('replaced', None)),
    ('absent', 'never', True, EC384, EC384, ('removed', None)),
    ('absent', 'never', True, None, EC384, ('removed', None)),
    ('absent', 'always', False, None, EC384, ('none', None)),
])
def test_decide_action(state, regenerate, exists, existing_spec, wanted_spec, expected):
    assert decide_action(state, regenerate, exists, existing_spec, wanted_spec) == expected


def test_certificate_of_a_key_of_another_algorithm_reports_its_expiry_and_no_match():
    data = certificate_pem(ed25519.Ed25519PrivateKey.generate().public_key()).encode('ascii')

    facts = certificate_facts(data, ec_key())

    assert facts == dict(certificate_matches_key=False, certificate_not_after=NOT_AFTER_TEXT,
                         certificate_sha256=hashlib.sha256(data).hexdigest())
