# Shoal. `make demo` starts a local cluster and shows it working; `make test`
# runs the whole test suite. Both install what they need first (as root on
# Debian).

export PATH := /usr/local/go/bin:$(PATH)
GO      ?= go
BIN     := bin/shoal
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/shoalproject/shoal/peer.Version=$(VERSION)
DEMO_DIR ?= $(CURDIR)/.demo
# Whole suite, in one go test run; CI's budget is 25 minutes.
TEST_TIMEOUT ?= 20m

.PHONY: all build build-bench deps helm test test-short bench demo demo-down clean images

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/shoal

deps:
	scripts/install-deps.sh

# Helm for the Helm suite (cmd/shoal/helm_e2e_test.go), from its own
# module in tools/helm, into bin/helm; skipped while that is up to date.
helm:
	scripts/build-helm.sh

test: deps build helm
	$(GO) vet ./...
	SHOAL_BIN=$(CURDIR)/$(BIN) TEST_TIMEOUT=$(TEST_TIMEOUT) scripts/run-tests.sh

test-short: build
	SHOAL_BIN=$(CURDIR)/$(BIN) $(GO) test -short -count=1 ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x ./gossip/ ./consensus/ ./cmd/shoal/

build-bench:
	$(GO) build -o bin/shoal-bench ./cmd/shoal-bench

# The seed example (examples/seed/) on 3 peers, each in a network namespace
# of its own; see cmd/shoal-demo. It leaves the cluster running.
demo: deps build images
	$(GO) build -o bin/shoal-demo ./cmd/shoal-demo
	bin/shoal-demo up --dir $(DEMO_DIR) --shoal $(BIN) --image bin/webapp.tar --seed examples/seed

demo-down:
	$(GO) build -o bin/shoal-demo ./cmd/shoal-demo
	bin/shoal-demo down --dir $(DEMO_DIR)

clean: demo-down
	rm -rf bin

# The example web service's images (shoal.local/webapp:v1 and :v2) in
# bin/webapp.tar, built without a registry or a docker daemon.
.PHONY: images
images:
	$(GO) run ./cmd/shoal-image-build -out bin -versions v1,v2

# The OpenAPI documents kubeapi/openapi embeds: openapi-gen's definitions
# of k8s.io/api's types, then the documents made from them and
# kubeapi.Resources(). Commit what changes under kubeapi/openapi.
.PHONY: openapi
openapi:
	$(GO) generate ./kubeapi/openapi/internal/definitions
	$(GO) generate ./kubeapi/openapi
