#!/usr/bin/env bash
# Writes the production secrets to .env ONCE, for docker compose to read on every start.
# Run it a second time and it refuses: a new database password no longer opens the database
# it created, and a new PII key no longer decrypts the personal data already stored.
#   bash scripts/init-env.sh            # then: docker compose up -d --build
# Keep .env out of version control (it is in .gitignore and .dockerignore) and back it up with
# the database: the PII key is needed to read the database's personal data.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-.env}"

if [ -e "$target" ]; then
  echo "init-env: $target already exists; its secrets are the ones the data was written with. Nothing changed." >&2
  exit 1
fi
command -v openssl >/dev/null || { echo "init-env: openssl is needed to generate the secrets" >&2; exit 1; }

umask 077
cat > "$target" <<ENV
# merchant-ops production secrets, generated once on $(date -u +%Y-%m-%dT%H:%M:%SZ) by scripts/init-env.sh.
# Never regenerate: the databases and the encrypted personal data depend on these values.
POSTGRES_PASSWORD=$(openssl rand -hex 24)
APP_DATABASE_PASSWORD=$(openssl rand -hex 24)
JWT_SECRET=$(openssl rand -hex 32)
PII_ENCRYPTION_KEY=$(openssl rand -base64 32)
PLATFORM_CALLBACK_SECRET=$(openssl rand -hex 32)
IDENTITY_HASH_KEY=$(openssl rand -base64 32)
PARTNER_SECRETS_KEY=$(openssl rand -base64 32)
# Stands in for the sandbox; a real deployment puts the AppSecret Youzan issued here.
YOUZAN_APP_SECRET=$(openssl rand -hex 32)

# The sandbox platform stands in for the partner and payment platforms. A real deployment
# removes the sandbox profile and sets the platforms' addresses and token:
#   COMPOSE_PROFILES=
#   PLATFORM_BASE_URL=https://…
#   PLATFORM_API_TOKEN=…
COMPOSE_PROFILES=sandbox
ENV
echo "init-env: wrote $target (mode 600). Back it up with the database; never regenerate it."
