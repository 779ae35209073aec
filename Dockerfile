# syntax=docker/dockerfile:1
# One image for both components: `hookguard webhook` and `hookguard agent` (the chart passes the
# subcommand as the first argument). Build: docker build -t ghcr.io/hookguard/hookguard:0.1.0 . (the chart's default image)
# Pin the bases by digest in your registry mirror for reproducible builds; the tags below are exact.
ARG NODE_VERSION=20.20.2

# ---- build: compile TypeScript to dist/ with the full toolchain
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /build
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: the postinstall only unpacks helm for the test suite; the image needs no helm
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# ---- deps: production dependencies only
FROM node:${NODE_VERSION}-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime: slim Node 20, no compiler, no dev dependencies, no sources (bin/hookguard.js then runs dist/)
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /build/dist ./dist
COPY --chown=0:0 package.json ./
COPY --chown=0:0 bin ./bin
# numeric, so Kubernetes can verify runAsNonRoot without a passwd entry; files stay root-owned (read-only)
USER 65532:65532
EXPOSE 9443 8080 8081
ENTRYPOINT ["node", "/app/bin/hookguard.js"]
CMD ["--help"]
