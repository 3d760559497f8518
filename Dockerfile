# syntax=docker/dockerfile:1
#
# rampart container image: a static binary (CGO_ENABLED=0; the embedded
# SQLite store is pure Go) on distroless/static, running as the unprivileged
# "nonroot" user (uid 65532). No shell, no package manager.
#
#   docker build -t rampart:dev --build-arg VERSION=$(git describe --tags --always) .
#   docker run --rm -p 8080:8080 rampart:dev            # demo model, embedded policy
#
# Distroless has no shell, so there is no Dockerfile HEALTHCHECK: use the
# orchestrator's probes on /healthz (liveness) and /readyz (readiness), as
# deploy/k8s/deployment.yaml does. See docs/DEPLOY.md.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Dependencies first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X github.com/rampart-ai/rampart/internal/cli.Version=${VERSION}" \
      -o /out/rampart ./cmd/rampart \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rampart /usr/local/bin/rampart
# The data directory (embedded SQLite store, generated keys) for a single
# instance; in Kubernetes it is an emptyDir or a volume, and the production
# setup keeps its state in PostgreSQL instead (docs/DEPLOY.md).
COPY --from=build --chown=65532:65532 /out/data /var/lib/rampart
USER 65532:65532
# Listen on all interfaces inside the container (rampart's own default is
# loopback); a config file's server.listen is overridden by this variable,
# so unset or change it here rather than in the file.
ENV RAMPART_LISTEN=0.0.0.0:8080 \
    RAMPART_DATA_DIR=/var/lib/rampart
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/rampart"]
CMD ["serve"]
