# Build: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Run: production dependencies and the compiled output only.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY models ./models
COPY profiles ./profiles
# The status page's files, served as they are (no build step).
COPY services/status/public ./services/status/public
ENV FIELDHOOK_DATA_DIR=/data
EXPOSE 8080 1883
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=160", "bin/fieldhook.js", "start"]
