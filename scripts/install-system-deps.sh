#!/usr/bin/env bash
# Installs the system packages the tests use. Idempotent: does nothing when they are present.
# On Debian/Ubuntu it installs them with apt-get (root or sudo); elsewhere it says what to install.
set -euo pipefail

# command -> Debian package
declare -A NEED=(
  [chromium]=chromium
  [turnserver]=coturn
  [turnutils_uclient]=coturn
  [redis-server]=redis-server
  [haproxy]=haproxy
  [janus]=janus
  [nft]=nftables
  [ip]=iproute2
  [certutil]=libnss3-tools
  [openssl]=openssl
)

missing_cmds=()
missing_pkgs=()
for cmd in "${!NEED[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/bin/$cmd" ] && [ ! -x "/usr/sbin/$cmd" ]; then
    missing_cmds+=("$cmd")
    pkg=${NEED[$cmd]}
    [[ " ${missing_pkgs[*]-} " == *" $pkg "* ]] || missing_pkgs+=("$pkg")
  fi
done

# Node.js: the project runs on the current LTS (24). Where the system's node is older, the official
# Node 24 binary comes from the npm registry (the `node` package) into /usr/local, which is ahead of
# /usr/bin on PATH, so `npm ci && npm test` in the same shell then run on it.
ensure_node() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 24 ]; then
    echo "node: $(node --version)"
    return
  fi
  if [ "$(id -u)" -ne 0 ] && [ ! -w /usr/local/bin ]; then
    echo "node $(node --version 2>/dev/null || echo missing) is older than 24: install Node 24 LTS (e.g. npm install -g node@24 as root)" >&2
    exit 1
  fi
  npm install -g --prefix /usr/local --no-fund --no-audit --loglevel=error node@24 >/dev/null
  hash -r
  echo "node: installed $(/usr/local/bin/node --version) in /usr/local/bin"
}

if [ ${#missing_pkgs[@]} -eq 0 ]; then
  echo "system packages: all present"
  ensure_node
  exit 0
fi

echo "system packages missing: ${missing_pkgs[*]} (for: ${missing_cmds[*]})"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "No apt-get here. Install the equivalents of these Debian packages yourself: ${missing_pkgs[*]}" >&2
  echo "(chromium, coturn, redis-server, haproxy, janus, nftables, iproute2, libnss3-tools, openssl)" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "Not root and no sudo: run as root: apt-get install -y ${missing_pkgs[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# coturn and redis-server ship services: keep them from starting on install, tests start their own.
policy_rc=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy_rc" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy_rc" >/dev/null && $SUDO chmod +x "$policy_rc" && created_policy=1
fi
trap '[ $created_policy = 1 ] && $SUDO rm -f "$policy_rc"' EXIT
$SUDO apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null
echo "system packages: installed ${missing_pkgs[*]}"
ensure_node
