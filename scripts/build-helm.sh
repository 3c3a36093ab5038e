#!/usr/bin/env bash
# Builds Helm (the version tools/helm/go.mod names) into bin/helm, for the
# Helm suite in cmd/shoal. Helm's dependencies stay in tools/helm's module,
# out of Shoal's go.mod and binary. The build is skipped while bin/helm is
# newer than tools/helm/go.sum; a first build downloads Helm's modules from
# the Go module proxy, later ones work offline from the module cache.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bin/helm}
if [ -x "$out" ] && [ "$out" -nt tools/helm/go.sum ]; then
	exit 0
fi
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
cd tools/helm
version=$(awk '$1 == "helm.sh/helm/v4" { print $2 }' go.mod)
if ! go build -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$version" \
	-o "$out.tmp" helm.sh/helm/v4/cmd/helm; then
	echo "build-helm.sh: could not build helm $version (tools/helm) into $out" >&2
	exit 1
fi
mv "$out.tmp" "$out"
