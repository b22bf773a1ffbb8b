# One image for every merchant-ops process, running compiled JavaScript on Node 22 LTS.
# The default command runs the API; compose (or any orchestrator) runs the others from the same
# image with another command:
#   node dist/worker/main.js | node dist/platform/sandbox/main.js | node dist/db/migrate.js

# --- build: every dependency, then tsc to dist/ and the workflow bundle built ahead ---
FROM node:22-bookworm-slim AS build

ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

# Dependencies first, so a source change does not re-install them. `npm ci` installs exactly
# what the lock pins (it holds every platform's native packages).
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY . .
RUN npm run build

# --- runtime: production dependencies and the build output only (no tsx, no TypeScript) ---
FROM node:22-bookworm-slim AS runtime

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    WORKER_HEALTH_FILE=/tmp/merchant-ops-worker.alive

WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The code stays owned by root and read-only for the process user.
COPY --from=build /app/dist ./dist

# The sandbox platform's state (SANDBOX_STATE_FILE in docker-compose.yml): a named volume
# mounted here takes this directory's owner, so the process user can write it.
RUN mkdir -p /var/lib/sandbox && chown node:node /var/lib/sandbox

USER node

# API (API_PORT) and sandbox platform (SANDBOX_PORT).
EXPOSE 3000 3100

CMD ["node", "dist/api/main.js"]
