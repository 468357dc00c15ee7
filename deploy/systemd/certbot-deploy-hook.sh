#!/usr/bin/env bash
# certbot deploy hook for ZeroRange's coturn: installs the renewed certificate of the turns: host
# where coturn reads it and makes coturn re-read it (SIGUSR2), without dropping calls.
#
# Install (runs after every successful renewal; it ignores other certificates):
#   install -m 0755 deploy/systemd/certbot-deploy-hook.sh /etc/letsencrypt/renewal-hooks/deploy/zerorange-coturn.sh
# and edit the defaults below, or set them in /etc/zerorange/certbot-deploy-hook.env.
# First issue: certbot certonly --standalone -d turn.example.com   (then run this hook once by hand:
#   RENEWED_LINEAGE=/etc/letsencrypt/live/turn.example.com /etc/letsencrypt/renewal-hooks/deploy/zerorange-coturn.sh)
#
# certbot's own copies stay root-only; coturn (user turnserver, or uid 10001 in Docker) gets copies
# it can read. Docker Compose instead of systemd:
#   ZR_TURN_TLS_OWNER=10001:10001
#   ZR_TURN_RELOAD="docker compose -f /opt/zerorange/deploy/docker-compose.yml kill -s SIGUSR2 coturn"
set -euo pipefail

config=${ZR_HOOK_CONFIG:-/etc/zerorange/certbot-deploy-hook.env}
# shellcheck source=/dev/null
if [[ -r "$config" ]]; then source "$config"; fi

# Certificate name (the folder under /etc/letsencrypt/live/) of the turns: host.
cert_name=${ZR_TURN_CERT_NAME:-turn.example.com}
# Where coturn reads fullchain.pem and privkey.pem (--cert/--key of turnConfigCli; ZR_TURN_TLS_DIR in Compose).
dest=${ZR_TURN_TLS_DIR:-/etc/zerorange/tls/turn}
# Owner and group of the installed copies (mode 0640).
owner=${ZR_TURN_TLS_OWNER:-root:turnserver}
# How coturn is told to re-read them; the unit's ExecReload sends SIGUSR2.
reload=${ZR_TURN_RELOAD:-systemctl reload zerorange-coturn.service}

lineage=${RENEWED_LINEAGE:?RENEWED_LINEAGE is not set: run by certbot as a deploy hook}
if [[ "$(basename "$lineage")" != "$cert_name" ]]; then
  exit 0
fi

user=${owner%%:*}
group=${owner#*:}
install -d -m 0750 -o "$user" -g "$group" "$dest"
for file in fullchain.pem privkey.pem; do
  # Copy beside the target, then rename: coturn never reads a half-written file.
  install -m 0640 -o "$user" -g "$group" "$lineage/$file" "$dest/.$file.new"
  mv -f "$dest/.$file.new" "$dest/$file"
done

# shellcheck disable=SC2086 # the reload command is meant to be split into words
$reload
echo "zerorange-coturn: installed the certificate of $cert_name in $dest and reloaded coturn" >&2
