# The image that GitHub Actions, GitLab CI, Drone and Woodpecker all run (see docs/).
# Base images are build args so that a machine without registry access can substitute local ones.
ARG GO_IMAGE=golang:1.26-alpine
ARG BASE_IMAGE=alpine:3.22

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
# Empty means Go's default proxy; GOPROXY=off builds from a mounted module cache only.
ARG GOPROXY
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/scalingo-deploy . \
 && mkdir -p /out/certs && cp /etc/ssl/certs/ca-certificates.crt /out/certs/

FROM ${BASE_IMAGE}
# Certificates come from the build stage so that the final stage runs no package manager and any base works.
COPY --from=build /out/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/scalingo-deploy /usr/local/bin/scalingo-deploy
COPY entrypoint /entrypoint
# No USER: GitHub's output files belong to the runner's user and GitHub expects root.
# No WORKDIR: every platform sets the working directory to its workspace.
ENTRYPOINT ["/entrypoint"]
