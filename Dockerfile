# syntax=docker/dockerfile:1
#
# paypage as a container: a static binary (CGO_ENABLED=0 works, SQLite is
# pure Go) on a distroless base, running as a non-root user, fit for a
# read-only root filesystem: everything it writes is under the /data volume.
#
#   docker build -t paypage .
#   docker run -d --name paypage --read-only -v paypage-data:/data -p 8080:8080 paypage
#   docker exec paypage /paypage merchant create --name "Acme"
#
# deploy/deploy_test.go lints this file with BuildKit's Dockerfile checks
# (those of `docker build --check`) and builds and runs the binary exactly as
# the build stage below does.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/paypage ./cmd/paypage
# The volume's mount point, owned by the user the server runs as, so that a
# new named volume starts out writable for it.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/paypage /paypage
COPY --from=build --chown=65532:65532 /out/data /data
ENV PAYPAGE_ADDR=0.0.0.0:8080 \
    PAYPAGE_DATABASE_URL=sqlite:/data/paypage.db
VOLUME ["/data"]
# Nothing is written relative to it: with --read-only it stays read-only.
WORKDIR /
USER 65532:65532
EXPOSE 8080
# No shell or curl in the image: the binary asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["/paypage", "healthcheck"]
ENTRYPOINT ["/paypage"]
CMD ["serve"]
