#!/usr/bin/env bash
# Installs the offline VS Code test host: code-server 4.100.3 (VS Code 1.100.3) from npm,
# Debian's chromium and playwright-core, into $TACIT_VSCODE_HOST (default
# ~/.cache/tacit/vscode-host). Idempotent: a complete host is detected by a stamp file and
# the script returns in milliseconds. See /work/shared/VSCODE-TEST-HOST.md for the why.
set -euo pipefail

HOST_DIR=${TACIT_VSCODE_HOST:-$HOME/.cache/tacit/vscode-host}
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
STAMP="$HOST_DIR/.complete-$CODE_SERVER_VERSION-$PLAYWRIGHT_VERSION"

log() { printf '[setup-host] %s\n' "$*" >&2; }

# ---- system packages (Debian) -------------------------------------------------------------
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
command -v git >/dev/null 2>&1 || need+=(git)
command -v make >/dev/null 2>&1 || need+=(build-essential)
command -v g++ >/dev/null 2>&1 || need+=(build-essential)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
[ -e /usr/include/krb5.h ] || [ -e /usr/include/krb5/krb5.h ] || need+=(libkrb5-dev)
[ -e /usr/include/node/node.h ] || need+=(nodejs)
if [ ${#need[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing ${need[*]} and no apt-get: install them by hand"; exit 1
  fi
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ -f "$STAMP" ] && exit 0

# ---- npm configuration: native modules build against the Debian headers, npx may install ---
export npm_config_nodedir=${npm_config_nodedir:-/usr}
export npm_config_yes=true
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

log "installing code-server $CODE_SERVER_VERSION + playwright-core $PLAYWRIGHT_VERSION into $HOST_DIR"
rm -rf "$HOST_DIR"
mkdir -p "$HOST_DIR"
cd "$HOST_DIR"
echo '{"private":true}' > package.json
npm i --ignore-scripts --no-save "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null
npm rebuild argon2 >/dev/null
cd node_modules/code-server/lib/vscode
npm i --omit=dev --ignore-scripts >/dev/null
npm rebuild @vscode/spdlog native-watchdog node-pty kerberos @vscode/deviceid >/dev/null
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
touch "$STAMP"
log "done"
