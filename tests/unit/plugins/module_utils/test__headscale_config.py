# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_config import (
    SERVER_DEFAULTS,
    SUPPORTED_VERSIONS,
    check_server,
    config_for,
    go_duration_seconds,
    model_duration_seconds,
    parse_listen_address,
    parse_version,
    secret_environment,
    server_variables,
    upgrade_problem,
    validate,
    version_problem,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.hostvars_fakes import UNDEFINED, LazyHostVars, undefined_error
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.wireguard_inputs import assert_error

DB_PASSWORD = 'pg-Secret-4711'
OIDC_SECRET = 'oidc-Secret-0815'


def base_inventory():
    """One valid server, hs1, with the settings every real inventory must add to the defaults."""
    hostvars = {'hs1': {'headscale_server_url': 'https://hs.example.org', 'headscale_dns': {'base_domain': 'tailnet.example.org'}}}
    return hostvars, {'headscale_servers': ['hs1'], 'other': ['x']}


def errors_after(change):
    hostvars, groups = base_inventory()
    change(hostvars['hs1'])
    return validate(hostvars, groups)


def with_values(**values):
    return errors_after(lambda host: host.update(values))


def only_error(errors):
    assert len(errors) == 1, errors
    return errors[0]


def config_after(change=None, version=None):
    hostvars, _groups = base_inventory()
    if change is not None:
        change(hostvars['hs1'])
    return config_for(server_variables(hostvars, 'hs1'), 'hs1', version)


def postgres(**extra):
    settings = {'host': 'db.example.org', 'name': 'headscale', 'user': 'headscale', 'password': DB_PASSWORD}
    settings.update(extra)
    return {'type': 'postgres', 'postgres': settings}


def assert_no_secret(text):
    for secret in (DB_PASSWORD, OIDC_SECRET):
        assert secret not in text


# ---------------------------------------------------------------------------------------------
# Versions, durations, addresses
# ---------------------------------------------------------------------------------------------

def test_parse_version():
    assert parse_version('0.29.3') == (0, 29, 3)
    assert parse_version('v0.26.0') == (0, 26, 0)
    for bad in ('0.29', '0.29.0-beta.1', 'latest', 29, None):
        with pytest.raises(ValueError):
            parse_version(bad)


def test_supported_versions_are_the_minor_series_026_to_029():
    assert SUPPORTED_VERSIONS == ((0, 26), (0, 27), (0, 28), (0, 29))
    for good in ('0.26.0', '0.27.1', '0.28.0', '0.29.3', '0.29.17'):
        assert version_problem(good) is None
    assert version_problem('0.25.1') == '0.25.1 is not supported (supported: 0.26.x, 0.27.x, 0.28.x, 0.29.x)'
    assert version_problem('0.30.0') == '0.30.0 is not supported (supported: 0.26.x, 0.27.x, 0.28.x, 0.29.x)'
    assert version_problem('0.29.0-rc.1') == "'0.29.0-rc.1' is not a headscale release version such as 0.29.3"


def test_a_wrong_version_is_named():
    assert only_error(with_values(headscale_version='0.23.0')) == \
        'host hs1: headscale_version: 0.23.0 is not supported (supported: 0.26.x, 0.27.x, 0.28.x, 0.29.x)'
    assert only_error(with_values(headscale_version=0.29)) == "host hs1: headscale_version: 0.29 is not a headscale release version such as 0.29.3"


def test_upgrade_problem_one_minor_version_at_a_time():
    assert upgrade_problem('0.28.0', '0.29.3') is None
    assert upgrade_problem('0.29.3', '0.29.1') is None  # patch changes both ways
    assert upgrade_problem('0.27.1', '0.29.3') == \
        'headscale 0.29.3 cannot take over the database of 0.27.1: upgrade one minor version at a time (to the latest 0.28.x first)'
    assert upgrade_problem('0.29.0', '0.28.0') == \
        'headscale 0.28.0 cannot take over the database of 0.29.0: downgrading to an older minor version is refused'


def test_durations():
    assert go_duration_seconds('30m') == 1800
    assert go_duration_seconds('1h30m') == 5400
    assert go_duration_seconds('1.5h') == 5400
    assert go_duration_seconds('500ms') == 0.5
    assert go_duration_seconds('0') == 0
    for bad in ('120', '3d', '', 'm', 120, None, '-5m'):
        with pytest.raises(ValueError):
            go_duration_seconds(bad)
    assert model_duration_seconds('180d') == 180 * 86400
    assert model_duration_seconds('1w2d') == 9 * 86400
    assert model_duration_seconds('0') == 0
    for bad in ('2d1w', '1.5d', '', 'forever', 180):
        with pytest.raises(ValueError):
            model_duration_seconds(bad)


def test_parse_listen_address():
    assert parse_listen_address('0.0.0.0:443') == ('0.0.0.0', 443)
    assert parse_listen_address('[::1]:9090') == ('::1', 9090)
    assert parse_listen_address(':8080') == ('', 8080)
    assert parse_listen_address('localhost:50443') == ('localhost', 50443)
    assert parse_listen_address(':http', named_ports=True) == ('', 80)
    for bad in (':http', '0.0.0.0', '0.0.0.0:0', ':70000', '::1:443', 443, 'bad name:80'):
        with pytest.raises(ValueError):
            parse_listen_address(bad)


# ---------------------------------------------------------------------------------------------
# Inventories
# ---------------------------------------------------------------------------------------------

def test_base_inventory_is_valid():
    hostvars, groups = base_inventory()
    assert validate(hostvars, groups) == []


def test_empty_or_missing_group_is_valid_and_groups_must_be_a_mapping():
    assert validate({}, {}) == []
    assert validate({}, {'headscale_servers': []}) == []
    assert validate({}, ['hs1']) == ['all: groups: must be a mapping of group name to hosts, got list']


def test_the_defaults_alone_ask_for_a_base_domain():
    # MagicDNS is on by default and needs a domain of its own: no default can guess one.
    assert validate({}, {'headscale_servers': ['hs1']}) == [
        "host hs1: headscale_dns.base_domain: required with magic_dns: true (headscale refuses to start without it): a domain for the "
        "nodes' names that is not the server's, such as tailnet.example.org; or set magic_dns: false"]
    assert validate({'hs1': {'headscale_dns': {'magic_dns': False}}}, {'headscale_servers': ['hs1']}) == []


def test_lazy_hostvars_with_undefined_values_are_read_as_unset():
    hostvars, groups = base_inventory()
    hostvars['hs1']['headscale_log_level'] = undefined_error
    hostvars['hs1']['unrelated'] = undefined_error
    lazy = LazyHostVars(hostvars)
    assert validate(lazy, groups, UNDEFINED) == []
    assert set(name for _host, name in lazy.names_read()) <= set(SERVER_DEFAULTS)


def test_an_absent_server_needs_nothing_else():
    assert with_values(headscale_state='absent', headscale_server_url='http://old', headscale_version='0.22.0') == []
    assert only_error(with_values(headscale_state='gone')) == "host hs1: headscale_state: 'gone' must be one of present, absent"


def test_check_server_appends_to_errors():
    errors = ['earlier']
    check_server(errors, 'hs9', server_variables({}, 'hs9'))
    assert errors[0] == 'earlier' and errors[1].startswith('host hs9: headscale_dns.base_domain: required')


# ---------------------------------------------------------------------------------------------
# server_url and listeners
# ---------------------------------------------------------------------------------------------

def test_server_url_must_be_https():
    message = only_error(with_values(headscale_server_url='http://hs.example.org:8080'))
    assert message.startswith("host hs1: headscale_server_url: 'http://hs.example.org:8080' must start with https://: Tailscale clients")
    assert 'headscale_tls.mode: proxy' in message


@pytest.mark.parametrize('url, fragment', [
    ('https://hs.example.org/', 'must not have a path (not even "/"), query or fragment'),
    ('https://hs.example.org/headscale', 'must not have a path'),
    ('https://user@hs.example.org', 'must name a host (and an optional port), without user or password'),
    ('https://hs.example.org:99999', 'is not a valid URL'),
    ('hs.example.org', 'must start with https://'),
    (['https://hs.example.org'], 'must be a URL such as https://headscale.example.org, got list'),
])
def test_server_url_forms(url, fragment):
    assert_error(with_values(headscale_server_url=url), 'host hs1: headscale_server_url: ', fragment)


def test_server_url_defaults_to_the_inventory_name():
    hostvars = {'hs1': {'headscale_dns': {'base_domain': 'tailnet.example.org'}}}
    assert validate(hostvars, {'headscale_servers': ['hs1']}) == []
    assert config_for(server_variables(hostvars, 'hs1'), 'hs1')['server_url'] == 'https://hs1'
    hostvars = {'hs 1': {'headscale_dns': {'base_domain': 'tailnet.example.org'}}}
    assert validate(hostvars, {'headscale_servers': ['hs 1']}) == [
        "host hs 1: headscale_server_url: unset, and https://hs 1 (from the inventory name) does not work: 'https://hs 1': "
        "'hs 1' is not a valid host name; set it"]


def test_two_servers_need_two_urls():
    hostvars, groups = base_inventory()
    hostvars['hs2'] = copy.deepcopy(hostvars['hs1'])
    hostvars['hs2']['headscale_server_url'] = 'https://HS.example.org'
    groups['headscale_servers'].append('hs2')
    assert validate(hostvars, groups) == [
        'host hs2: headscale_server_url: https://hs.example.org is also the URL of host hs1; each headscale server needs its own']
    hostvars['hs2']['headscale_state'] = 'absent'
    assert validate(hostvars, groups) == []


def test_listen_addresses():
    errors = with_values(headscale_listen_address='0.0.0.0', headscale_grpc_listen_address=None)
    assert_error(errors, "host hs1: headscale_listen_address: address '0.0.0.0' must be host:port")
    assert_error(errors, 'host hs1: headscale_grpc_listen_address: required (host:port)')
    assert with_values(headscale_listen_address=':8443', headscale_grpc_listen_address='[::1]:50443') == []
    assert only_error(with_values(headscale_metrics_listen_address='127.0.0.1:443')) == \
        'host hs1: headscale_metrics_listen_address: TCP port 443 is also the port of headscale_listen_address'
    assert with_values(headscale_listen_address='192.0.2.10:9090') == []  # another address than the metrics listener


def test_metrics_listener_off_from_028_on():
    assert with_values(headscale_metrics_listen_address=None) == []
    assert 'metrics_listen_addr' not in config_after(lambda host: host.update(headscale_metrics_listen_address=None))
    assert only_error(with_values(headscale_metrics_listen_address=None, headscale_version='0.27.1')) == (
        'host hs1: headscale_metrics_listen_address: required by headscale 0.27: it only turns the metrics listener off from 0.28 on '
        '(before, null listens on a random port of every address)')


# ---------------------------------------------------------------------------------------------
# Prefixes and DERP
# ---------------------------------------------------------------------------------------------

def test_prefixes_must_be_inside_the_tailscale_ranges():
    errors = with_values(headscale_prefixes={'v4': '10.64.0.0/16', 'v6': 'fd00::/48'})
    assert errors == [
        'host hs1: headscale_prefixes.v4: 10.64.0.0/16 is not inside 100.64.0.0/10: Tailscale clients only work with addresses from there '
        '(headscale merely warns)',
        'host hs1: headscale_prefixes.v6: fd00::/48 is not inside fd7a:115c:a1e0::/48: Tailscale clients only work with addresses from '
        'there (headscale merely warns)']
    assert_error(with_values(headscale_prefixes={'v4': 'fd7a:115c:a1e0::/64'}), 'headscale_prefixes.v4: fd7a:115c:a1e0::/64 is not inside')
    assert_error(with_values(headscale_prefixes={'v4': '100.64.0.1/24'}), 'headscale_prefixes.v4: 100.64.0.1/24 has host bits set')
    assert with_values(headscale_prefixes={'v4': '100.64.7.0/24', 'allocation': 'random'}) == []


def test_one_prefix_may_be_null_but_not_both():
    assert with_values(headscale_prefixes={'v6': None}) == []
    assert config_after(lambda host: host.update(headscale_prefixes={'v6': None}))['prefixes'] == {
        'v4': '100.64.0.0/10', 'allocation': 'sequential'}
    assert only_error(with_values(headscale_prefixes={'v4': None, 'v6': None})) == \
        'host hs1: headscale_prefixes: v4 and v6 are both null; headscale needs at least one prefix to hand out addresses from'
    assert only_error(with_values(headscale_prefixes={'allocation': 'next'})) == \
        "host hs1: headscale_prefixes.allocation: 'next' must be one of sequential, random"


def test_an_empty_derp_map_is_refused():
    assert only_error(with_values(headscale_derp={'server': {'enabled': False}, 'urls': []})) == (
        'host hs1: headscale_derp: the DERP map would be empty (embedded server off, no urls, no paths), and headscale refuses to start '
        'with an empty DERP map; turn server.enabled on (offline networks) or give urls or paths')
    assert with_values(headscale_derp={'server': {'enabled': False}, 'paths': ['/etc/headscale/derp.yaml'], 'urls': []}) == []
    # the lab: embedded server only, no internet
    assert with_values(headscale_derp={'urls': []}) == []


def test_embedded_region_kept_out_of_the_map_needs_a_file():
    assert only_error(with_values(headscale_derp={'server': {'automatically_add_embedded_derp_region': False}})) == (
        "host hs1: headscale_derp.server.automatically_add_embedded_derp_region: false needs the embedded server's region in a file of "
        'headscale_derp.paths (headscale refuses to start otherwise)')


def test_derp_values():
    errors = with_values(headscale_derp={
        'server': {'region_id': 0, 'region_code': '', 'stun_listen_address': '3478', 'ipv4': '2001:db8::1', 'enabled': 'yes'},
        'urls': ['ftp://derp.example.org/map.json'], 'paths': ['derp.yaml'], 'auto_update': 1, 'update_frequency': '3'})
    assert_error(errors, 'host hs1: headscale_derp.server.region_id: 0 is out of range (1-2147483647)')
    assert_error(errors, "host hs1: headscale_derp.server.region_code: must be a non-empty string, got ''")
    assert_error(errors, "host hs1: headscale_derp.server.stun_listen_address: address '3478' must be host:port")
    assert_error(errors, "host hs1: headscale_derp.server.ipv4: '2001:db8::1' is not an IPv4 address")
    assert_error(errors, "host hs1: headscale_derp.server.enabled: must be true or false, got 'yes'")
    assert_error(errors, "host hs1: headscale_derp.urls: 'ftp://derp.example.org/map.json' must start with https:// or http://")
    assert_error(errors, "host hs1: headscale_derp.paths: must be an absolute path, got 'derp.yaml'")
    assert_error(errors, 'host hs1: headscale_derp.auto_update: must be true or false, got 1')
    assert_error(errors, "host hs1: headscale_derp.update_frequency: '3' is not a duration such as 30m, 90s or 1h30m")


def test_verify_clients_arrived_in_027():
    change = {'headscale_derp': {'server': {'verify_clients': True}}}
    assert only_error(with_values(headscale_version='0.26.1', **change)) == \
        'host hs1: headscale_derp.server.verify_clients: arrived in headscale 0.27; 0.26 ignores it (leave it null)'
    assert with_values(headscale_version='0.27.0', **change) == []
    assert config_after(lambda host: host.update(change), '0.27.0')['derp']['server']['verify_clients'] is True
    assert 'verify_clients' not in config_after()['derp']['server']  # null: the version's own default


def test_derp_config():
    derp = config_after(lambda host: host.update(headscale_derp={'urls': [], 'update_frequency': '3h', 'server': {'ipv4': '192.0.2.7'}}))['derp']
    assert derp == {
        'server': {'enabled': True, 'region_id': 999, 'region_code': 'headscale', 'region_name': 'Headscale Embedded DERP',
                   'stun_listen_addr': '0.0.0.0:3478', 'private_key_path': '/var/lib/headscale/derp_server_private.key',
                   'automatically_add_embedded_derp_region': True, 'ipv4': '192.0.2.7'},
        'urls': [], 'paths': [], 'auto_update_enabled': True, 'update_frequency': '3h'}
    assert config_after()['derp']['urls'] == ['https://controlplane.tailscale.com/derpmap/default']


# ---------------------------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------------------------

def test_postgres_needs_host_name_and_user():
    errors = with_values(headscale_database={'type': 'postgres'})
    assert errors == [
        'host hs1: headscale_database.postgres.host: required with type postgres (a host name, an IP address or the directory of a unix socket)',
        'host hs1: headscale_database.postgres.name: required with type postgres',
        'host hs1: headscale_database.postgres.user: required with type postgres']
    assert with_values(headscale_database=postgres()) == []
    assert with_values(headscale_database=postgres(host='/var/run/postgresql', port=None, password=None, ssl='verify-full')) == []


def test_postgres_values_and_the_password_is_never_shown():
    errors = with_values(headscale_database=postgres(port='5432', ssl='yes', host='db host'))
    assert_error(errors, "host hs1: headscale_database.postgres.port: must be an integer between 1 and 65535, got '5432'")
    assert_error(errors, "host hs1: headscale_database.postgres.ssl: 'yes' must be true, false or an sslmode (disable, allow, prefer, ")
    assert_error(errors, "host hs1: headscale_database.postgres.host: 'db host' is not a valid host name")
    errors = with_values(headscale_database=postgres(password=['not', 'text', DB_PASSWORD]))
    assert only_error(errors) == 'host hs1: headscale_database.postgres.password: must be a non-empty string'
    assert_no_secret('\n'.join(errors))


def test_postgres_config_has_no_password():
    variables_change = {'headscale_database': postgres(port=6432, ssl=False)}
    config = config_after(lambda host: host.update(variables_change))
    assert config['database'] == {'type': 'postgres', 'postgres': {'host': 'db.example.org', 'port': 6432, 'name': 'headscale',
                                                                   'user': 'headscale', 'ssl': False}}
    assert_no_secret(json.dumps(config))
    hostvars, _groups = base_inventory()
    hostvars['hs1'].update(variables_change)
    assert secret_environment(server_variables(hostvars, 'hs1')) == {'HEADSCALE_DATABASE_POSTGRES_PASS': DB_PASSWORD}
    assert secret_environment(server_variables(base_inventory()[0], 'hs1')) == {}


def test_sqlite_with_postgres_settings_is_a_mistake():
    assert only_error(with_values(headscale_database={'postgres': {'host': 'db.example.org'}})) == \
        'host hs1: headscale_database.postgres: set, but type is sqlite (set type: postgres, or remove it)'
    errors = with_values(headscale_database={'type': 'mysql', 'sqlite': {'path': 'db.sqlite', 'write_ahead_log': 'on'}})
    assert only_error(errors) == "host hs1: headscale_database.type: 'mysql' must be one of sqlite, postgres"
    errors = with_values(headscale_database={'sqlite': {'path': 'db.sqlite', 'write_ahead_log': 'on'}})
    assert errors == ["host hs1: headscale_database.sqlite.path: must be an absolute path, got 'db.sqlite'",
                      "host hs1: headscale_database.sqlite.write_ahead_log: must be true or false, got 'on'"]
    assert config_after()['database'] == {'type': 'sqlite', 'sqlite': {'path': '/var/lib/headscale/db.sqlite', 'write_ahead_log': True}}


# ---------------------------------------------------------------------------------------------
# DNS
# ---------------------------------------------------------------------------------------------

def dns(**values):
    settings = {'base_domain': 'tailnet.example.org'}
    settings.update(values)
    return {'headscale_dns': settings}


def test_base_domain_must_not_be_the_server_or_its_parent():
    assert only_error(with_values(**dns(base_domain='hs.example.org'))) == (
        'host hs1: headscale_dns.base_domain: hs.example.org is the host of headscale_server_url (hs.example.org): the tailnet would take '
        'that name over and clients would lose the server and its DERP relay (headscale refuses to start); use a domain of its own, such '
        'as tailnet.hs.example.org')
    assert_error(with_values(**dns(base_domain='Example.org')), 'host hs1: headscale_dns.base_domain: Example.org is a parent domain of the host')
    assert with_values(**dns(base_domain='nodes.hs.example.org')) == []  # a child of the server's name is fine
    assert with_values(**dns(base_domain='ample.org')) == []  # a suffix, but not a parent domain


def test_base_domain_and_search_domains_are_dns_names():
    errors = with_values(**dns(base_domain='tailnet.example.org.', search_domains=['corp.example.org', 'bad domain', 'x.']))
    assert errors == ["host hs1: headscale_dns.base_domain: 'tailnet.example.org.' must not end with a dot",
                      "host hs1: headscale_dns.search_domains: 'bad domain' is not a valid host name",
                      "host hs1: headscale_dns.search_domains: 'x.' must not end with a dot"]


def test_override_local_dns_needs_global_nameservers():
    assert only_error(with_values(**dns(override_local_dns=True))) == \
        'host hs1: headscale_dns.override_local_dns: true needs nameservers.global (headscale refuses to start otherwise)'
    assert with_values(**dns(override_local_dns=True, nameservers={'global': ['192.0.2.53', 'https://dns.example.org/dns-query']})) == []


def test_nameservers():
    errors = with_values(**dns(nameservers={'global': ['dns.example.org'], 'split': {'corp.example.org': [], 'lab': ['192.0.2.53', 'x']},
                                            'fallback': []}))
    assert errors == [
        "host hs1: headscale_dns.nameservers.fallback: unknown key (known keys: global, split)",
        "host hs1: headscale_dns.nameservers.global: 'dns.example.org' is not an IP address or an https:// DNS-over-HTTPS URL",
        'host hs1: headscale_dns.nameservers.split.corp.example.org: needs at least one nameserver',
        "host hs1: headscale_dns.nameservers.split.lab: 'x' is not an IP address or an https:// DNS-over-HTTPS URL"]


def test_extra_records():
    records = [{'name': 'grafana.tailnet.example.org', 'type': 'A', 'value': '100.64.0.3'},
               {'name': 'v6.tailnet.example.org', 'type': 'AAAA', 'value': '100.64.0.3'},
               {'name': 'mx.tailnet.example.org', 'type': 'MX', 'value': 'x'},
               {'name': 'bad name', 'type': 'A', 'value': '100.64.0.4', 'ttl': 60},
               'www']
    errors = with_values(**dns(extra_records=records))
    assert errors == [
        "host hs1: headscale_dns.extra_records[1].value: '100.64.0.3' is not an IPv6 address (type AAAA)",
        "host hs1: headscale_dns.extra_records[2].type: 'MX' must be one of A, AAAA",
        'host hs1: headscale_dns.extra_records[3].ttl: unknown key (known keys: name, type, value)',
        "host hs1: headscale_dns.extra_records[3].name: 'bad name' is not a valid host name",
        'host hs1: headscale_dns.extra_records[4]: must be a mapping (name, type, value), got str']
    assert config_after(lambda host: host.update(dns(extra_records=records[:1])))['dns']['extra_records'] == records[:1]


def test_extra_records_or_a_records_file():
    change = dns(extra_records=[{'name': 'a.tailnet.example.org', 'type': 'A', 'value': '100.64.0.3'}],
                 extra_records_path='/var/lib/headscale/records.json')
    assert only_error(with_values(**change)) == \
        'host hs1: headscale_dns.extra_records_path: cannot be used together with extra_records (headscale refuses to start); choose one'
    config = config_after(lambda host: host.update(dns(extra_records_path='/var/lib/headscale/records.json')))['dns']
    assert config['extra_records_path'] == '/var/lib/headscale/records.json' and 'extra_records' not in config
    assert 'extra_records' not in config_after()['dns']  # headscale refuses even an empty list next to a records file


def test_removed_dns_keys_say_what_replaces_them():
    errors = with_values(**dns(use_username_in_magic_dns=True, mgic_dns=True))
    assert errors == [
        'host hs1: headscale_dns.use_username_in_magic_dns: removed in headscale 0.24, which refuses to start with it; nothing replaces it',
        'host hs1: headscale_dns.mgic_dns: unknown key (known keys: magic_dns, base_domain, override_local_dns, nameservers, '
        'search_domains, extra_records, extra_records_path)']


def test_dns_config():
    config = config_after(lambda host: host.update(dns(magic_dns=False, base_domain=None)))['dns']
    assert config == {'magic_dns': False, 'base_domain': '', 'override_local_dns': False, 'nameservers': {'global': [], 'split': {}},
                      'search_domains': []}


# ---------------------------------------------------------------------------------------------
# TLS
# ---------------------------------------------------------------------------------------------

def test_tls_files_both_or_the_defaults():
    assert config_after()['tls_cert_path'] == '/etc/headscale/tls/headscale.crt'
    assert config_after()['tls_key_path'] == '/etc/headscale/tls/headscale.key'
    assert only_error(with_values(headscale_tls={'cert_path': '/etc/ssl/hs.crt'})) == \
        'host hs1: headscale_tls.key_path: required together with cert_path (a certificate and its key)'
    assert with_values(headscale_tls={'cert_path': '/etc/ssl/hs.crt', 'key_path': '/etc/ssl/private/hs.key'}) == []


def test_tls_letsencrypt_and_files_not_both():
    errors = with_values(headscale_tls={'mode': 'letsencrypt', 'cert_path': '/etc/ssl/hs.crt'})
    assert only_error(errors) == 'host hs1: headscale_tls.cert_path: only with mode files (mode is letsencrypt)'
    errors = with_values(headscale_tls={'cert_path': '/etc/ssl/hs.crt', 'key_path': '/k', 'letsencrypt_hostname': 'hs.example.org'})
    assert only_error(errors) == 'host hs1: headscale_tls.letsencrypt_hostname: only with mode letsencrypt (mode is files)'
    assert only_error(with_values(headscale_tls={'mode': 'acme'})) == "host hs1: headscale_tls.mode: 'acme' must be one of files, letsencrypt, proxy"


def test_tls_letsencrypt():
    change = {'headscale_tls': {'mode': 'letsencrypt', 'acme_email': 'ops@example.org'}}
    assert with_values(**change) == []
    config = config_after(lambda host: host.update(change))
    assert {key: value for key, value in config.items() if key.startswith(('tls_', 'acme_'))} == {
        'acme_email': 'ops@example.org', 'tls_letsencrypt_hostname': 'hs.example.org', 'tls_letsencrypt_cache_dir': '/var/lib/headscale/cache',
        'tls_letsencrypt_challenge_type': 'HTTP-01', 'tls_letsencrypt_listen': ':http'}
    errors = with_values(headscale_tls={'mode': 'letsencrypt', 'letsencrypt_hostname': 'other.example.org', 'letsencrypt_challenge_type': 'DNS-01',
                                        'acme_email': 'ops', 'acme_url': 'http://acme.example.org/directory'})
    assert errors == [
        'host hs1: headscale_tls.letsencrypt_hostname: other.example.org is not the host of headscale_server_url (hs.example.org), the name '
        'clients check the certificate for',
        "host hs1: headscale_tls.letsencrypt_challenge_type: 'DNS-01' must be one of HTTP-01, TLS-ALPN-01",
        "host hs1: headscale_tls.acme_url: 'http://acme.example.org/directory' must start with https://",
        "host hs1: headscale_tls.acme_email: 'ops' is not an e-mail address"]


def test_tls_letsencrypt_http01_listener_needs_its_port():
    errors = with_values(headscale_listen_address='0.0.0.0:80', headscale_tls={'mode': 'letsencrypt'})
    assert only_error(errors) == 'host hs1: headscale_tls.letsencrypt_listen: TCP port 80 is also the port of headscale_listen_address'
    assert with_values(headscale_listen_address='0.0.0.0:80', headscale_tls={'mode': 'letsencrypt', 'letsencrypt_challenge_type': 'TLS-ALPN-01'}) \
        == []


def test_tls_proxy_writes_no_tls_settings():
    change = {'headscale_tls': {'mode': 'proxy'}, 'headscale_listen_address': '127.0.0.1:8080'}
    assert with_values(**change) == []
    config = config_after(lambda host: host.update(change))
    assert not [key for key in config if key.startswith(('tls_', 'acme_'))]
    assert config['server_url'] == 'https://hs.example.org' and config['listen_addr'] == '127.0.0.1:8080'


# ---------------------------------------------------------------------------------------------
# OIDC, expiry, policy, log level
# ---------------------------------------------------------------------------------------------

def oidc(**values):
    settings = {'issuer': 'https://id.example.org/realms/lab', 'client_id': 'headscale'}
    settings.update(values)
    return {'headscale_oidc': settings}


def test_oidc_secret_stays_out_of_messages_and_config():
    errors = with_values(**oidc(client_secret=OIDC_SECRET, client_secret_path='/etc/headscale/oidc_secret'))
    assert only_error(errors) == ('host hs1: headscale_oidc.client_secret: cannot be used together with client_secret_path (headscale refuses '
                                  'to start); choose one (client_secret_path keeps the secret in a file of its own)')
    change = oidc(client_secret=OIDC_SECRET, scope=['openid', 'email'], pkce={'enabled': True})
    assert with_values(**change) == []
    config = config_after(lambda host: host.update(change))
    assert config['oidc'] == {'issuer': 'https://id.example.org/realms/lab', 'client_id': 'headscale', 'scope': ['openid', 'email'],
                              'pkce': {'enabled': True}}
    assert_no_secret(json.dumps(config))
    hostvars, _groups = base_inventory()
    hostvars['hs1'].update(change)
    assert secret_environment(server_variables(hostvars, 'hs1')) == {'HEADSCALE_OIDC_CLIENT_SECRET': OIDC_SECRET}
    errors = with_values(**oidc(client_secret=[OIDC_SECRET]))
    assert only_error(errors) == 'host hs1: headscale_oidc.client_secret: must be a non-empty string'


def test_oidc_values():
    assert with_values(**oidc(client_secret_path='${CREDENTIALS_DIRECTORY}/oidc_client_secret')) == []
    errors = with_values(headscale_oidc={'issuer': 'http://id.example.org', 'scope': ['email'], 'pkce': {'method': 'S512'},
                                         'allowed_domains': ['example.org', 'not a domain'], 'client_secret_path': 'secret.txt',
                                         'extra_params': {'domain_hint': 1}, 'clientid': 'x'})
    assert errors == [
        'host hs1: headscale_oidc.clientid: unknown key (known keys: issuer, client_id, client_secret, client_secret_path, '
        'only_start_if_oidc_is_available, scope, extra_params, allowed_domains, allowed_users, allowed_groups, email_verified_required, '
        'use_expiry_from_token, pkce)',
        "host hs1: headscale_oidc.issuer: 'http://id.example.org' must start with https://",
        'host hs1: headscale_oidc.client_id: required',
        "host hs1: headscale_oidc.client_secret_path: must be an absolute path, got 'secret.txt'",
        'host hs1: headscale_oidc.scope: must include openid',
        'host hs1: headscale_oidc.extra_params: must be a mapping of parameter name to text',
        "host hs1: headscale_oidc.allowed_domains: 'not a domain' is not a valid host name",
        "host hs1: headscale_oidc.pkce.method: 'S512' must be one of plain, S256"]
    assert only_error(with_values(headscale_oidc='https://id.example.org')) == 'host hs1: headscale_oidc: must be a mapping, got str'


def test_oidc_keys_removed_upstream():
    errors = with_values(**oidc(expiry='180d', strip_email_domain=True))
    assert errors == [
        'host hs1: headscale_oidc.expiry: set headscale_node_expiry instead: the role writes it as oidc.expiry before headscale 0.29 and as '
        'node.expiry from 0.29 on, which refuses to start with oidc.expiry',
        'host hs1: headscale_oidc.strip_email_domain: removed in headscale 0.26, which refuses to start with it; nothing replaces it']


def test_email_verified_required_arrived_in_028():
    assert only_error(with_values(headscale_version='0.27.1', **oidc(email_verified_required=False))) == \
        'host hs1: headscale_oidc.email_verified_required: arrived in headscale 0.28; 0.27 ignores it (leave it out)'
    assert with_values(headscale_version='0.28.0', **oidc(email_verified_required=False)) == []


def test_node_expiry_by_version():
    assert with_values(headscale_node_expiry='180d') == []
    assert config_after(lambda host: host.update(headscale_node_expiry='180d'))['node'] == {
        'expiry': '180d', 'ephemeral': {'inactivity_timeout': '30m'}}
    assert config_after(lambda host: host.update(headscale_node_expiry=0))['node']['expiry'] == '0'
    # before 0.29 only OIDC nodes have a default expiry
    assert only_error(with_values(headscale_node_expiry='180d', headscale_version='0.28.0')) == (
        'host hs1: headscale_node_expiry: needs headscale 0.29 or headscale_oidc: before 0.29, headscale only sets an expiry for nodes '
        'that log in with OIDC (oidc.expiry)')
    change = dict(headscale_node_expiry='90d', **oidc())
    assert with_values(headscale_version='0.28.0', **change) == []
    config = config_after(lambda host: host.update(change), '0.28.0')
    assert config['oidc']['expiry'] == '90d' and 'node' not in config
    assert 'expiry' not in config_after(lambda host: host.update(change))['oidc']
    assert only_error(with_values(headscale_node_expiry='6 months')) == \
        "host hs1: headscale_node_expiry: '6 months' is not a duration such as 180d, 12h or 0 (never); headscale would silently use no expiry"


def test_ephemeral_inactivity_timeout_by_version():
    assert config_after(version='0.28.0')['ephemeral_node_inactivity_timeout'] == '30m'
    assert 'node' not in config_after(version='0.28.0')
    assert 'ephemeral_node_inactivity_timeout' not in config_after(version='0.29.3')
    assert only_error(with_values(headscale_ephemeral_inactivity_timeout='65s')) == \
        'host hs1: headscale_ephemeral_inactivity_timeout: 65s must be longer than 65s (headscale refuses to start otherwise)'
    assert only_error(with_values(headscale_ephemeral_inactivity_timeout='120')) == \
        "host hs1: headscale_ephemeral_inactivity_timeout: '120' is not a duration such as 30m, 90s or 1h30m"
    assert with_values(headscale_ephemeral_inactivity_timeout=None) == []
    assert 'node' not in config_after(lambda host: host.update(headscale_ephemeral_inactivity_timeout=None))


def test_policy_path_and_log_level():
    assert config_after()['policy'] == {'mode': 'file', 'path': '/etc/headscale/policy.json'}
    assert config_after(lambda host: host.update(headscale_policy_path=None))['policy'] == {'mode': 'file', 'path': ''}
    errors = with_values(headscale_policy_path='policy.json', headscale_log_level='verbose')
    assert errors == ["host hs1: headscale_policy_path: must be an absolute path, got 'policy.json'",
                      "host hs1: headscale_log_level: 'verbose' must be one of panic, fatal, error, warn, info, debug, trace"]
    assert 'log' not in config_after(lambda host: host.update(headscale_log_level=None))


def test_unknown_keys_in_every_mapping_variable():
    errors = with_values(headscale_prefixes={'v5': 'x'}, headscale_derp={'server': {'stun_listen_addr': ':3478'}, 'url': []},
                         headscale_database={'sqlite': {'wal': True}, 'postgres': {'pass': DB_PASSWORD}, 'kind': 'sqlite'},
                         headscale_tls={'cert': '/c'}, **oidc(pkce={'enable': True}))
    assert errors == [
        'host hs1: headscale_prefixes.v5: unknown key (known keys: v4, v6, allocation)',
        'host hs1: headscale_derp.url: unknown key (known keys: server, urls, paths, auto_update, update_frequency)',
        'host hs1: headscale_derp.server.stun_listen_addr: unknown key (known keys: enabled, region_id, region_code, region_name, '
        'stun_listen_address, automatically_add_embedded_derp_region, verify_clients, ipv4, ipv6)',
        'host hs1: headscale_database.kind: unknown key (known keys: type, sqlite, postgres)',
        'host hs1: headscale_database.sqlite.wal: unknown key (known keys: path, write_ahead_log)',
        'host hs1: headscale_database.postgres.pass: unknown key (known keys: host, port, name, user, password, ssl)',
        'host hs1: headscale_tls.cert: unknown key (known keys: mode, cert_path, key_path, letsencrypt_hostname, letsencrypt_challenge_type, '
        'letsencrypt_listen, letsencrypt_cache_dir, acme_url, acme_email)',
        'host hs1: headscale_oidc.pkce.enable: unknown key (known keys: enabled, method)']
    assert_no_secret('\n'.join(errors))
    assert with_values(headscale_prefixes=[]) == ['host hs1: headscale_prefixes: must be a mapping, got list']


# ---------------------------------------------------------------------------------------------
# headscale_extra_config
# ---------------------------------------------------------------------------------------------

def extra(values, version=None):
    change = {'headscale_extra_config': values}
    if version:
        change['headscale_version'] = version
    return with_values(**change)


def test_extra_config_refuses_removed_keys_naming_the_replacement():
    errors = extra({'acl_policy_path': '/etc/headscale/acl.hujson', 'dns_config': {'nameservers': ['192.0.2.53'], 'magic_dns': True},
                    'ip_prefixes': ['100.64.0.0/10'], 'oidc': {'expiry': '180d'}, 'db_pass': DB_PASSWORD, 'randomize_client_port': True})
    assert errors == [
        'host hs1: headscale_extra_config.acl_policy_path: renamed policy.path in headscale 0.23, and refused at startup without it; '
        'set headscale_policy_path',
        'host hs1: headscale_extra_config.db_pass: replaced by the database section in headscale 0.23 and silently ignored since; '
        'set headscale_database',
        'host hs1: headscale_extra_config.dns_config: replaced by the dns section in headscale 0.23, and refused at startup; set headscale_dns '
        '(magic_dns, base_domain, override_local_dns, nameservers -> nameservers.global, restricted_nameservers -> nameservers.split, '
        'domains -> search_domains, extra_records)',
        'host hs1: headscale_extra_config.ip_prefixes: replaced by prefixes.v4 and prefixes.v6 in headscale 0.23: silently ignored, and '
        'headscale refuses to start without prefixes; set headscale_prefixes',
        'host hs1: headscale_extra_config.oidc.expiry: set headscale_node_expiry instead: the role writes it as oidc.expiry before headscale '
        '0.29 and as node.expiry from 0.29 on, which refuses to start with oidc.expiry',
        'host hs1: headscale_extra_config.randomize_client_port: removed in headscale 0.29, which refuses to start with it; put '
        '"randomizeClientPort": true at the top level of the policy file (headscale_policy_path) instead']
    assert_no_secret('\n'.join(errors))


def test_randomize_client_port_is_fine_before_029():
    assert extra({'randomize_client_port': True}, '0.28.0') == []
    hostvars, _groups = base_inventory()
    hostvars['hs1'].update(headscale_extra_config={'randomize_client_port': True}, headscale_version='0.28.0')
    assert config_for(server_variables(hostvars, 'hs1'), 'hs1')['randomize_client_port'] is True


def test_extra_config_refuses_what_a_variable_sets():
    errors = extra({'dns': {'magic_dns': False, 'use_username_in_magic_dns': True}, 'log': {'level': 'debug', 'format': 'json'},
                    'database': {'postgres': {'pass': DB_PASSWORD}}, 'prefixes': {'v4': '100.64.0.0/24'},
                    'node': {'ephemeral': {'inactivity_timeout': '1h'}}, 'cli': {'api_key': 'key'}})
    assert errors == [
        'host hs1: headscale_extra_config.cli.api_key: a secret, which never goes into config.yaml (the CLI on the server uses the unix '
        'socket, no key needed)',
        'host hs1: headscale_extra_config.database.postgres.pass: set by headscale_database.postgres.password; set it there',
        'host hs1: headscale_extra_config.dns: set by headscale_dns; set it there',
        'host hs1: headscale_extra_config.dns.use_username_in_magic_dns: removed in headscale 0.24, which refuses to start with it; nothing '
        'replaces it',
        'host hs1: headscale_extra_config.log.level: set by headscale_log_level; set it there',
        'host hs1: headscale_extra_config.node.ephemeral.inactivity_timeout: set by headscale_ephemeral_inactivity_timeout; set it there',
        'host hs1: headscale_extra_config.prefixes: set by headscale_prefixes; set it there']
    assert_no_secret('\n'.join(errors))


def test_extra_config_keys_the_version_does_not_read():
    assert only_error(extra({'taildrop': {'enabled': False}}, '0.27.1')) == \
        'host hs1: headscale_extra_config.taildrop.enabled: not read by headscale 0.27, which would silently ignore it (read by 0.28 on)'
    assert extra({'taildrop': {'enabled': False}}, '0.28.0') == []
    assert only_error(extra({'tuning': {'register_cache_cleanup': '5m'}})) == (
        'host hs1: headscale_extra_config.tuning.register_cache_cleanup: not read by headscale 0.29, which would silently ignore it '
        '(read by 0.27 to 0.28)')
    assert only_error(extra({'node': {'routes': {'ha': {'probe_interval': '20s'}}}}, '0.28.0')) == (
        'host hs1: headscale_extra_config.node.routes.ha.probe_interval: not read by headscale 0.28, which would silently ignore it '
        '(read by 0.29 on)')
    assert only_error(extra({'log': {'fromat': 'json'}})) == \
        'host hs1: headscale_extra_config.log.fromat: not a headscale setting; headscale would silently ignore it (misspelt?)'
    assert only_error(extra({'tuning': 5})) == (
        'host hs1: headscale_extra_config.tuning: must be a mapping (keys: batch_change_delay, batcher_workers, '
        'node_mapsession_buffered_chan_size, node_store_batch_size, node_store_batch_timeout, notifier_send_timeout, '
        'register_cache_cleanup, register_cache_expiration, register_cache_max_entries), got int')
    assert extra({'database': {}}) == []
    assert only_error(extra(['log'])) == 'host hs1: headscale_extra_config: must be a mapping (merged into config.yaml), got list'


def test_extra_config_values_headscale_checks_at_startup():
    errors = extra({'trusted_proxies': ['127.0.0.1/32', '0.0.0.0/0', 'proxy'], 'log': {'format': 'xml'}, 'unix_socket_permission': 770,
                    'grpc_allow_insecure': 'no', 'node': {'routes': {'ha': {'probe_interval': '1s', 'probe_timeout': '2s'}}},
                    'tuning': {'node_store_batch_size': 0}, 'noise': {'private_key_path': 'noise.key'}})
    assert errors == [
        "host hs1: headscale_extra_config.grpc_allow_insecure: must be true or false, got 'no'",
        "host hs1: headscale_extra_config.noise.private_key_path: must be an absolute path, got 'noise.key'",
        "host hs1: headscale_extra_config.log.format: 'xml' must be one of text, json",
        'host hs1: headscale_extra_config.unix_socket_permission: 770 must be an octal mode in quotes, such as "0770"',
        'host hs1: headscale_extra_config.trusted_proxies: 0.0.0.0/0 would trust every address (headscale refuses to start)',
        "host hs1: headscale_extra_config.trusted_proxies: 'proxy' is not a CIDR prefix",
        'host hs1: headscale_extra_config.node.routes.ha.probe_interval: must be 2s or more, or 0 to turn probing off (headscale refuses to start)',
        'host hs1: headscale_extra_config.node.routes.ha.probe_timeout: must be 1s or more and shorter than the probe interval '
        '(headscale refuses to start)',
        'host hs1: headscale_extra_config.tuning.node_store_batch_size: 0 is out of range (1-2147483647)']
    assert extra({'node': {'routes': {'ha': {'probe_interval': '0'}}}}) == []


def test_extra_config_is_deep_merged():
    change = {'headscale_extra_config': {'log': {'format': 'json'}, 'derp': {'server': {'private_key_path': '/srv/derp.key'}},
                                         'taildrop': {'enabled': False}, 'disable_check_updates': False}}
    assert with_values(**change) == []
    config = config_after(lambda host: host.update(change))
    assert config['log'] == {'level': 'info', 'format': 'json'}
    assert config['derp']['server']['private_key_path'] == '/srv/derp.key' and config['derp']['server']['region_id'] == 999
    assert config['taildrop'] == {'enabled': False} and config['disable_check_updates'] is False


# ---------------------------------------------------------------------------------------------
# config.yaml as a whole
# ---------------------------------------------------------------------------------------------

def test_config_for_029():
    assert config_after() == {
        'server_url': 'https://hs.example.org',
        'listen_addr': '0.0.0.0:443',
        'metrics_listen_addr': '127.0.0.1:9090',
        'grpc_listen_addr': '127.0.0.1:50443',
        'grpc_allow_insecure': False,
        'noise': {'private_key_path': '/var/lib/headscale/noise_private.key'},
        'prefixes': {'v4': '100.64.0.0/10', 'v6': 'fd7a:115c:a1e0::/48', 'allocation': 'sequential'},
        'derp': {'server': {'enabled': True, 'region_id': 999, 'region_code': 'headscale', 'region_name': 'Headscale Embedded DERP',
                            'stun_listen_addr': '0.0.0.0:3478', 'private_key_path': '/var/lib/headscale/derp_server_private.key',
                            'automatically_add_embedded_derp_region': True},
                 'urls': ['https://controlplane.tailscale.com/derpmap/default'], 'paths': [], 'auto_update_enabled': True},
        'disable_check_updates': True,
        'node': {'ephemeral': {'inactivity_timeout': '30m'}},
        'database': {'type': 'sqlite', 'sqlite': {'path': '/var/lib/headscale/db.sqlite', 'write_ahead_log': True}},
        'tls_cert_path': '/etc/headscale/tls/headscale.crt',
        'tls_key_path': '/etc/headscale/tls/headscale.key',
        'log': {'level': 'info'},
        'policy': {'mode': 'file', 'path': '/etc/headscale/policy.json'},
        'dns': {'magic_dns': True, 'base_domain': 'tailnet.example.org', 'override_local_dns': False,
                'nameservers': {'global': [], 'split': {}}, 'search_domains': []},
        'unix_socket': '/var/run/headscale/headscale.sock',
        'unix_socket_permission': '0770',
        'logtail': {'enabled': False},
    }


@pytest.mark.parametrize('version', ['0.26.0', '0.27.1', '0.28.0'])
def test_config_before_029_names_the_inactivity_timeout_the_old_way(version):
    config = config_after(version=version)
    expected = config_after()
    del expected['node']
    expected['ephemeral_node_inactivity_timeout'] = '30m'
    assert config == expected
    assert config_after(version=parse_version(version)) == config


def test_config_for_uses_headscale_version_by_default():
    hostvars, _groups = base_inventory()
    hostvars['hs1']['headscale_version'] = '0.26.1'
    assert 'ephemeral_node_inactivity_timeout' in config_for(server_variables(hostvars, 'hs1'), 'hs1')


def test_variables_are_not_changed_by_config_for():
    hostvars, _groups = base_inventory()
    hostvars['hs1']['headscale_extra_config'] = {'log': {'format': 'json'}}
    variables = server_variables(hostvars, 'hs1')
    before = copy.deepcopy(variables)
    config = config_for(variables, 'hs1')
    config['log']['format'] = 'text'
    config['derp']['urls'].append('https://x')
    assert variables == before
