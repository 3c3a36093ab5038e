#!/usr/bin/env bash
# Installs what building, testing and the demo need, when it is missing.
# Run as root on Debian; elsewhere it only checks and says what is missing.
set -euo pipefail

need_pkgs=()
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
command -v git >/dev/null 2>&1 || need_pkgs+=(git)
command -v make >/dev/null 2>&1 || need_pkgs+=(make)
# The container runtime (workload/runtime/containerd): containerd, runc, the
# CNI plugins (bridge, host-local, loopback in /usr/lib/cni) and iptables.
command -v containerd >/dev/null 2>&1 || need_pkgs+=(containerd)
command -v runc >/dev/null 2>&1 || need_pkgs+=(runc)
test -x /usr/lib/cni/bridge || need_pkgs+=(containernetworking-plugins)
command -v iptables >/dev/null 2>&1 || need_pkgs+=(iptables)
# Pull tests serve images from Debian's registry (distribution 2.8) on 127.0.0.1.
command -v docker-registry >/dev/null 2>&1 || need_pkgs+=(docker-registry)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: ${need_pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "missing packages: ${need_pkgs[*]} (run as root on Debian to install them)" >&2
    exit 1
  fi
fi

export PATH=/usr/local/go/bin:$PATH
if ! command -v go >/dev/null 2>&1; then
  echo "Go is missing: install Go 1.26 or newer at /usr/local/go" >&2
  exit 1
fi
