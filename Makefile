# overlaynet.vpn — developer and CI entry points. Run as root on Debian 12.
#   make demo       set up everything, start lab hosts, run site.yml, print a connectivity report
#                   (also written as build/demo/report.html)
#   make demo-down  remove the demo lab hosts
#   make test       lint, sanity, unit tests and every molecule scenario (what CI runs)
#   make molecule   every molecule scenario; SCENARIO=name for one, ROLE=name for a role's
#   make unit       the pytest unit tests (builds both headscale releases first: some tests run their checkers)
#   make bench      converge/rerun timings and tunnel throughput on lab hosts, and the PKI bench (not part of make test)
#   make bench-pki  issuing 100 and 500 OpenVPN client certificates: openvpn_pki vs easy-rsa 3 vs openssl per certificate
#   make bench-baseline  converge/rerun side by side with githubixx/ansible-role-wireguard
#   make bench-openvpn   OpenVPN converge/rerun and throughput side by side with kyl191/ansible-role-openvpn
#   make bench-tailnet   headscale/Tailscale converge/rerun with 4 and 8 nodes, and tailnet throughput
#   make wireguard-go   build the pinned wireguard-go from its Go module (cached per machine)
#   make headscale      build the pinned headscale, tailscale and tailscaled (cached per machine)
#   make headscale-previous   build the headscale release before it (the tests upgrade from it)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Caches survive between runs on the same machine: the venv (keyed by the requirements),
# pip downloads, the lab image (in podman's store, keyed by its recipe) and Go builds.
CACHE_DIR ?= $(HOME)/.cache/overlaynet
REQUIREMENTS_HASH := $(shell sha256sum requirements-dev.txt | cut -c1-12)
VENV ?= $(CACHE_DIR)/venv-$(REQUIREMENTS_HASH)
BUILD := $(CURDIR)/build
COLLECTIONS_DIR := $(BUILD)/collections
COLLECTION_LINK := $(COLLECTIONS_DIR)/ansible_collections/overlaynet/vpn
LAB := python3 $(CURDIR)/lab/lab.py

export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_DIR)
export PYTHONDONTWRITEBYTECODE := 1

# The fast userspace data plane: wireguard-go built from this exact Go module version
# (the module proxy refuses version lists, so never @latest). Roles get it through their
# local-file install path; the demo inventory and the scenarios read its path from here.
WIREGUARD_GO_VERSION := v0.0.0-20260522210424-ecfc5a8d5446
export OVERLAYNET_WIREGUARD_GO := $(CACHE_DIR)/bin/wireguard-go-$(WIREGUARD_GO_VERSION)

# headscale and Tailscale for the tailnet scenario, built the same way. Pinned to the newest
# versions the module proxy here serves and the toolchain builds (../shared/ENVIRONMENT.md).
# Tailscale is stamped so that `tailscale version` reports its version. headscale reads its
# version from Go's build info, which only `go install MODULE@VERSION` fills in (refused for
# headscale's replace directives), so this binary reports "dev": the roles take the version from
# the inventory (headscale_version), never from the binary.
HEADSCALE_VERSION := v0.29.3
TAILSCALE_VERSION := v1.102.5
export OVERLAYNET_HEADSCALE := $(CACHE_DIR)/bin/headscale-$(HEADSCALE_VERSION)
# The minor release before it: the tailnet scenario starts its server on this one and upgrades
# it, and the unit tests run the checkers of both (0.28 checks a policy file alone, 0.29 asks the
# running server).
HEADSCALE_PREVIOUS_VERSION := v0.28.0
export OVERLAYNET_HEADSCALE_PREVIOUS := $(CACHE_DIR)/bin/headscale-$(HEADSCALE_PREVIOUS_VERSION)
export OVERLAYNET_HEADSCALE_PREVIOUS_VERSION := $(HEADSCALE_PREVIOUS_VERSION:v%=%)
export OVERLAYNET_TAILSCALE := $(CACHE_DIR)/bin/tailscale-$(TAILSCALE_VERSION)
export OVERLAYNET_TAILSCALED := $(CACHE_DIR)/bin/tailscaled-$(TAILSCALE_VERSION)
TAILSCALE_LDFLAGS := -X tailscale.com/version.longStamp=$(TAILSCALE_VERSION:v%=%) -X tailscale.com/version.shortStamp=$(TAILSCALE_VERSION:v%=%)

DEMO_HOSTS := demo1 demo2 demo3 demo4
DEMO_INVENTORY := $(BUILD)/demo/lab.json
DEMO_REPORT := $(BUILD)/demo/report.html
MOLECULE_SCENARIOS := $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
# What collection-check renders with ansible-doc: everything that exists, not a list to keep.
MODULES := $(basename $(notdir $(wildcard plugins/modules/*.py)))
FILTERS := $(basename $(notdir $(wildcard plugins/filter/*.yml)))
ROLES := $(patsubst roles/%/meta/argument_specs.yml,%,$(wildcard roles/*/meta/argument_specs.yml))

.PHONY: help setup venv collection-link lab-image lab-images test-binaries wireguard-go headscale headscale-previous demo demo-down test lint sanity unit molecule \
	bench-openvpn bench-openvpn-converge bench-openvpn-throughput bench-tailnet bench-tailnet-converge bench-tailnet-throughput \
        build-collection collection-check bench bench-converge bench-throughput bench-pki bench-baseline clean

help:
	@grep '^#   make ' Makefile | sed 's/^# //'

# Always run: it checks every host package by name (quick), so a package removed since the
# last run is put back; the venv is only built when its requirements changed.
setup: venv collection-link

venv:
	lab/setup-host.sh $(VENV)

# Ansible resolves overlaynet.vpn to this checkout through this link.
collection-link:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn $(CURDIR) $(COLLECTION_LINK)

lab-image: setup
	$(LAB) image

# The base image and the variants the scenarios name (lab_variant), so that no scenario waits for one.
MOLECULE_LAB_VARIANTS := $(sort $(shell sed -n 's/^ *lab_variant: *//p' molecule/*/molecule.yml))
lab-images: lab-image
	for variant in $(MOLECULE_LAB_VARIANTS); do $(LAB) image --variant $$variant; done

test-binaries: wireguard-go headscale headscale-previous

wireguard-go: $(OVERLAYNET_WIREGUARD_GO)

$(OVERLAYNET_WIREGUARD_GO):
	lab/build-go-binary.sh golang.zx2c4.com/wireguard $(WIREGUARD_GO_VERSION) . $@ $(CACHE_DIR)


headscale: $(OVERLAYNET_HEADSCALE) $(OVERLAYNET_TAILSCALE) $(OVERLAYNET_TAILSCALED)

# Only the tests need it (the demo does not).
headscale-previous: $(OVERLAYNET_HEADSCALE_PREVIOUS)

$(OVERLAYNET_HEADSCALE):
	lab/build-go-binary.sh github.com/juanfont/headscale $(HEADSCALE_VERSION) ./cmd/headscale $@ $(CACHE_DIR)

$(OVERLAYNET_HEADSCALE_PREVIOUS):
	lab/build-go-binary.sh github.com/juanfont/headscale $(HEADSCALE_PREVIOUS_VERSION) ./cmd/headscale $@ $(CACHE_DIR)

$(OVERLAYNET_TAILSCALE):
	lab/build-go-binary.sh tailscale.com $(TAILSCALE_VERSION) ./cmd/tailscale $@ $(CACHE_DIR) "$(TAILSCALE_LDFLAGS)"

$(OVERLAYNET_TAILSCALED):
	lab/build-go-binary.sh tailscale.com $(TAILSCALE_VERSION) ./cmd/tailscaled $@ $(CACHE_DIR) "$(TAILSCALE_LDFLAGS)"

demo: setup wireguard-go headscale
	$(LAB) up $(DEMO_HOSTS) --inventory $(DEMO_INVENTORY)
	ansible-playbook -i $(DEMO_INVENTORY) -i lab/demo/inventory.yml site.yml playbooks/report.yml \
	  -e overlaynet_report_html=$(DEMO_REPORT)
	@echo "demo: connectivity report written to $(DEMO_REPORT)"

demo-down:
	$(LAB) down $(DEMO_HOSTS)

# On a fresh machine the Go builds (about 10 minutes on 2 cores, much of it module downloads and
# single-threaded links) and the lab images run two at a time with lint and sanity; once cached,
# they cost nothing. Each phase's duration is printed.
test: setup
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -j2 --output-sync=target lint sanity test-binaries lab-images; \
	echo "=== lint, sanity, Go builds and lab images took $$(( $$(date +%s) - start )) s"
	@start=$$(date +%s); $(MAKE) --no-print-directory unit collection-check; \
	echo "=== unit tests and collection check took $$(( $$(date +%s) - start )) s"
	@$(MAKE) --no-print-directory molecule

lint: setup
	yamllint --strict .
	ansible-lint --profile production

# ansible-test wants the collection at ansible_collections/NAMESPACE/NAME and lists files
# with git, so the copy (the files git knows, tracked and new) lives outside this checkout.
# --venv keeps ansible-test's own pinned tool versions out of our venv (cached under ~/.ansible/test).
# One copy per checkout (keyed by its path), so that two checkouts can run sanity at once.
SANITY_ROOT := $(CACHE_DIR)/sanity-$(shell echo '$(CURDIR)' | sha256sum | cut -c1-12)
SANITY_TREE := $(SANITY_ROOT)/ansible_collections/overlaynet/vpn
ANSIBLE_TEST_GET_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py
sanity: setup
	install -D -m 0644 lab/get_pip_offline.py $(ANSIBLE_TEST_GET_PIP)
	rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_TREE)
	git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ $(SANITY_TREE)/
	cd $(SANITY_TREE) && ansible-test sanity --venv --python 3.11 --color no

# Some tests run the Go-built headscale's own checkers: built first, and required (not skipped) here.
unit: setup headscale headscale-previous
	OVERLAYNET_REQUIRE_BINARIES=1 PYTHONPATH=$(COLLECTIONS_DIR) python -m pytest -q -p no:cacheprovider -rs tests/unit lab/tests

# SCENARIO=name runs one scenario, ROLE=name the scenarios of one role (named ROLE_*);
# each scenario's duration is printed, and a summary at the end (also after a failure).
SCENARIO ?=
ROLE ?=
SELECTED_SCENARIOS := $(if $(SCENARIO),$(SCENARIO),$(if $(ROLE),$(filter $(ROLE)_%,$(MOLECULE_SCENARIOS)),$(MOLECULE_SCENARIOS)))
molecule: setup lab-images test-binaries
	@test -n "$(SELECTED_SCENARIOS)" || { echo "no molecule scenario matches SCENARIO=$(SCENARIO) ROLE=$(ROLE)"; exit 1; }
	@summary=""; status=0; \
	for scenario in $(SELECTED_SCENARIOS); do \
	  echo "=== molecule scenario $$scenario"; start=$$(date +%s); \
	  if molecule test -s $$scenario; then result=passed; else result=FAILED; status=1; fi; \
	  line="$$scenario $$result in $$(( $$(date +%s) - start )) s"; echo "=== $$line"; summary="$$summary  $$line\n"; \
	  [ $$status -eq 0 ] || break; \
	done; \
	printf "=== molecule scenarios:\n$$summary"; exit $$status

build-collection: setup
	rm -rf $(BUILD)/dist && mkdir -p $(BUILD)/dist
	ansible-galaxy collection build --output-path $(BUILD)/dist .

# The built tarball carries no lab, bench or test-harness files, installs, and its modules,
# filters and role render with ansible-doc from the installed copy.
collection-check: build-collection
	! tar -tzf $(BUILD)/dist/overlaynet-vpn-*.tar.gz | grep -E '^(lab|bench|molecule|build|\.ci)/'
	rm -rf $(BUILD)/installed
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed ansible-galaxy collection install --offline --force -p $(BUILD)/installed $(BUILD)/dist/overlaynet-vpn-*.tar.gz
	for doc in $(MODULES); do \
	  ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed ansible-doc overlaynet.vpn.$$doc | grep -q 'MODULE.*overlaynet.vpn.'$$doc \
	    || { echo "ansible-doc does not render module $$doc"; exit 1; }; done
	for doc in $(FILTERS); do \
	  ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed ansible-doc -t filter overlaynet.vpn.$$doc | grep -q $$doc \
	    || { echo "ansible-doc does not render filter $$doc"; exit 1; }; done
	for doc in $(ROLES); do \
	  ANSIBLE_COLLECTIONS_PATH=$(BUILD)/installed ansible-doc -t role overlaynet.vpn.$$doc | grep -q 'ENTRY POINT' \
	    || { echo "ansible-doc does not render role $$doc"; exit 1; }; done

BENCH_VENV := $(CACHE_DIR)/bench-venv-$(shell sha256sum bench/requirements.txt | cut -c1-12)

$(BENCH_VENV)/.complete: bench/requirements.txt
	rm -rf $(BENCH_VENV) && python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q -r bench/requirements.txt
	touch $@

bench: bench-converge bench-throughput bench-pki bench-openvpn bench-tailnet

bench-converge: setup lab-image
	python bench/wireguard_converge.py --hosts 4 8 16 --runs 3 --output bench/results

bench-throughput: setup lab-image wireguard-go $(BENCH_VENV)/.complete
	python bench/wireguard_throughput.py --runs 3 --seconds 4 --output bench/results
	$(BENCH_VENV)/bin/python bench/throughput_chart.py bench/results/wireguard-throughput.json bench/results/wireguard-throughput.png

# No lab hosts: the PKI is made on the controller, by the module, by easy-rsa and by openssl.
bench-pki: setup
	python bench/openvpn_pki.py --clients 100 500 --runs 3 --output bench/results

# The most-used public WireGuard role, run side by side with ours in one script run. It is
# never committed here: it is cloned into build/ on first use.
# BASELINE_ROLE_REPO may be a URL or a local git directory (e.g. a bare mirror).
BASELINE_ROLE_REPO ?= https://github.com/githubixx/ansible-role-wireguard
BASELINE_ROLE_DIR ?= $(BUILD)/baseline-role
BENCH_BASELINE_HOSTS ?= 4 8
BENCH_BASELINE_RUNS ?= 3
BENCH_OUTPUT ?= bench/results
BENCH_HOST_PREFIX ?=
bench-baseline: setup lab-image
	test -f $(BASELINE_ROLE_DIR)/tasks/main.yml || git clone --depth 1 $(BASELINE_ROLE_REPO) $(BASELINE_ROLE_DIR)
	$(LAB) image --variant baseline
	python bench/wireguard_converge.py --hosts $(BENCH_BASELINE_HOSTS) --runs $(BENCH_BASELINE_RUNS) \
	  --baseline-role-dir $(BASELINE_ROLE_DIR) --output $(BENCH_OUTPUT) --host-prefix '$(BENCH_HOST_PREFIX)'

# The OpenVPN benches. The public role (MIT) is never committed here: it is cloned into build/
# on first use, pinned to the commit the results name. OPENVPN_BASELINE_ROLE_REPO may be a URL
# or a local git directory (e.g. a bare mirror).
OPENVPN_BASELINE_ROLE_REPO ?= https://github.com/kyl191/ansible-role-openvpn
OPENVPN_BASELINE_ROLE_DIR ?= $(BUILD)/openvpn-baseline-role
OPENVPN_BASELINE_ROLE_COMMIT ?= c8db1c34be524dd529d30060d0080d4a6f64d949
BENCH_OPENVPN_CLIENTS ?= 8 32
BENCH_OPENVPN_RUNS ?= 3
bench-openvpn: bench-openvpn-converge bench-openvpn-throughput

bench-openvpn-converge: setup lab-image
	test -f $(OPENVPN_BASELINE_ROLE_DIR)/tasks/main.yml || git clone -q $(OPENVPN_BASELINE_ROLE_REPO) $(OPENVPN_BASELINE_ROLE_DIR)
	git -C $(OPENVPN_BASELINE_ROLE_DIR) checkout -q $(OPENVPN_BASELINE_ROLE_COMMIT)
	python bench/openvpn_converge.py --clients $(BENCH_OPENVPN_CLIENTS) --runs $(BENCH_OPENVPN_RUNS) \
	  --baseline-role-dir $(OPENVPN_BASELINE_ROLE_DIR) --output $(BENCH_OUTPUT)

bench-openvpn-throughput: setup lab-image
	python bench/openvpn_throughput.py --runs 3 --seconds 5 --grid-runs 2 --grid-seconds 3 --output $(BENCH_OUTPUT)

bench-tailnet: bench-tailnet-converge bench-tailnet-throughput

# The public roles the tailnet converge bench runs side by side with ours (bench/tailnet_converge.py),
# cloned on first use and pinned to the commits the results name; the *_REPO may be local mirrors.
TAILNET_BASELINE_HEADSCALE_REPO ?= https://github.com/kazauwa/ansible-role-headscale
TAILNET_BASELINE_HEADSCALE_DIR ?= $(BUILD)/tailnet-baseline-headscale-role
TAILNET_BASELINE_HEADSCALE_COMMIT ?= 30b8fca9d1b8c2e956d571edfefcceaea031e4b1
TAILNET_BASELINE_TAILSCALE_REPO ?= https://github.com/artis3n/ansible-collection-tailscale
TAILNET_BASELINE_TAILSCALE_DIR ?= $(BUILD)/tailnet-baseline-tailscale-collection
TAILNET_BASELINE_TAILSCALE_COMMIT ?= 6e54795d8a7a7ccf946de4f482a6b381548d4766
BENCH_TAILNET_NODES ?= 4 8
BENCH_TAILNET_RUNS ?= 3

bench-tailnet-converge: setup lab-image headscale
	test -f $(TAILNET_BASELINE_HEADSCALE_DIR)/tasks/main.yml || git clone -q $(TAILNET_BASELINE_HEADSCALE_REPO) $(TAILNET_BASELINE_HEADSCALE_DIR)
	git -C $(TAILNET_BASELINE_HEADSCALE_DIR) checkout -q $(TAILNET_BASELINE_HEADSCALE_COMMIT)
	test -f $(TAILNET_BASELINE_TAILSCALE_DIR)/galaxy.yml || git clone -q $(TAILNET_BASELINE_TAILSCALE_REPO) $(TAILNET_BASELINE_TAILSCALE_DIR)
	git -C $(TAILNET_BASELINE_TAILSCALE_DIR) checkout -q $(TAILNET_BASELINE_TAILSCALE_COMMIT)
	python bench/tailnet_converge.py --nodes $(BENCH_TAILNET_NODES) --runs $(BENCH_TAILNET_RUNS) --output $(BENCH_OUTPUT) \
	  --baseline-headscale-role-dir $(TAILNET_BASELINE_HEADSCALE_DIR) --baseline-tailscale-collection-dir $(TAILNET_BASELINE_TAILSCALE_DIR)

bench-tailnet-throughput: setup lab-image headscale
	python bench/tailnet_throughput.py --runs 3 --seconds 5 --output $(BENCH_OUTPUT)

clean:
	rm -rf $(BUILD)
