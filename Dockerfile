# Build: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# No lifecycle scripts: the package's own `prepare` builds from the sources, not copied yet (and
# compiling needs no native module).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# Run: production dependencies and the compiled output only.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# `prepare` (a build from the sources, with the dev dependencies) is not for this stage: the
# compiled output comes from the first. The native modules' own install scripts run by name.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3 onnxruntime-node
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY models ./models
COPY profiles ./profiles
# The status page's files, served as they are (no build step).
COPY services/status/public ./services/status/public
ENV FIELDHOOK_DATA_DIR=/data
EXPOSE 8080 1883
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=160", "bin/fieldhook.js", "start"]
