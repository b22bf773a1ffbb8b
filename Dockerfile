# One image for every merchant-ops process. The default command runs the API; compose (or any
# orchestrator) runs the others from the same image with another command:
#   npm run start:worker | npm run start:sandbox | npm run migrate
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

# Dependencies first, so a source change does not re-install them. `tsx` is a runtime
# dependency (the services run TypeScript directly); dev tools (jest, eslint, the Temporal
# test server) stay out of the image.
COPY package.json package-lock.json ./
# `npm ci` installs exactly what the lock pins (it holds every platform's native packages).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The code stays owned by root and read-only for the process user.
COPY . .

USER node

# API (API_PORT) and sandbox platform (SANDBOX_PORT).
EXPOSE 3000 3100

CMD ["npm", "run", "start:api"]
