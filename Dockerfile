# syntax=docker/dockerfile:1
# Multi-stage: build with the full toolchain, run on a slim Debian with only libpq. One image,
# both binaries: `nosebook` (migrate, seed, serve) and `nosebook-notifier` (a notifier node).
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin nosebook --bin nosebook-notifier

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 nosebook
COPY --from=build /src/target/release/nosebook /src/target/release/nosebook-notifier /usr/local/bin/
USER nosebook
ENV APP_ENV=prod \
    NOSEBOOK_LISTEN=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '\"ok\":true' <&3"]
ENTRYPOINT ["nosebook"]
CMD ["serve"]
