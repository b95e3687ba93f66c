# Shared by scripts/run and scripts/test: install and start what Nosebook needs on a Debian
# machine, idempotently. Sourced, not run.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_SERVER="${NOSEBOOK_PG:-postgres://postgres@127.0.0.1:5432}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=
apt_install() {
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
    done
}

ensure_build_tools() {
    if ! command -v cargo >/dev/null; then
        echo "error: no Rust toolchain (cargo) on PATH; install Rust 1.95 or newer with rustup" >&2
        exit 1
    fi
    # diesel links libpq; some crates build C code.
    local missing
    missing=$(missing_packages build-essential pkg-config libpq-dev)
    if [ -n "$missing" ]; then
        say "installing build dependencies: $missing"
        # shellcheck disable=SC2086
        apt_install $missing
    fi
}

pg_ok() {
    psql "$PG_SERVER/postgres" -qAtc 'SELECT 1' >/dev/null 2>&1
}

ensure_postgres() {
    if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
        say "installing PostgreSQL"
        apt_install postgresql postgresql-contrib
    fi
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        say "starting PostgreSQL $version"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        for _ in $(seq 1 30); do
            pg_isready -q -h 127.0.0.1 -p 5432 && break
            sleep 1
        done
    fi
    if ! pg_ok; then
        # A fresh Debian cluster asks for a password over TCP; this is a development machine, so
        # let the local postgres role in (loopback only), as the project's URLs expect.
        say "allowing the postgres role over loopback (trust) for local development"
        local hba="/etc/postgresql/$version/main/pg_hba.conf"
        as_root sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
        sleep 1
    fi
    if ! pg_ok; then
        echo "error: PostgreSQL is not reachable at $PG_SERVER" >&2
        exit 1
    fi
}

# Creates the database of a postgres URL if it does not exist.
ensure_database() {
    local url="$1" name server
    name="${url##*/}"
    name="${name%%\?*}"
    server="${url%/*}"
    if ! psql "$server/postgres" -qAtc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
        say "creating database $name"
        psql "$server/postgres" -qc "CREATE DATABASE \"$name\""
    fi
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Whether a server on 127.0.0.1:PORT answers `GET /ping` with `pong` within 2 s (bash's own
# /dev/tcp: no HTTP client needed).
answers_ping() {
    local reply
    reply=$(
        exec 2>/dev/null
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'GET /ping HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$1" >&3
        timeout 2 cat <&3
    ) || return 1
    [[ $reply == *$'\r\n\r\n'pong ]]
}

# wait_for_ping PORT PID: waits until 127.0.0.1:PORT answers `/ping`; fails as soon as process
# PID has exited, or after 30 s.
wait_for_ping() {
    local port=$1 pid=$2 deadline=$((SECONDS + 30))
    until answers_ping "$port"; do
        kill -0 "$pid" 2>/dev/null || return 1
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

# NAME=value… start_server VAR LOG BINARY ARGS…
#
# Starts a Nosebook node (`BINARY ARGS…`, e.g. `target/release/nosebook serve`) in the background
# with the variables before the call as its environment, its output to LOG, and sets VAR to its
# process id; returns once it answers `/ping` on the port of its NOSEBOOK_LISTEN. The script
# stops with an error when that port is taken already, and with the end of LOG when the node exits
# before it answers or has not answered within 30 s (it is killed then).
start_server() {
    local start_server_var=$1 start_server_log=$2 start_server_pid start_server_port
    shift 2
    start_server_port=${NOSEBOOK_LISTEN:?start_server needs NOSEBOOK_LISTEN}
    start_server_port=${start_server_port##*:}
    # A server left over from an earlier run would answer in place of this one.
    if port_open "$start_server_port"; then
        echo "error: port $start_server_port is taken (a server left over from an earlier run?)" >&2
        exit 1
    fi
    "$@" >"$start_server_log" 2>&1 &
    start_server_pid=$!
    printf -v "$start_server_var" %s "$start_server_pid"
    if ! wait_for_ping "$start_server_port" "$start_server_pid"; then
        if kill -0 "$start_server_pid" 2>/dev/null; then
            echo "error: $* did not answer /ping on port $start_server_port within 30 s" >&2
            kill "$start_server_pid" 2>/dev/null || true
        else
            echo "error: $* exited before it answered /ping on port $start_server_port" >&2
        fi
        echo "the end of its log ($start_server_log):" >&2
        tail -n 20 "$start_server_log" >&2 || true
        exit 1
    fi
}

# RabbitMQ carries events between nodes (and, by default, within one).
ensure_rabbitmq() {
    if ! command -v rabbitmq-server >/dev/null; then
        say "installing RabbitMQ"
        apt_install rabbitmq-server
    fi
    if ! port_open 5672; then
        say "starting RabbitMQ"
        as_root rabbitmq-server -detached || true
        for _ in $(seq 1 60); do
            port_open 5672 && break
            sleep 1
        done
    fi
    if ! port_open 5672; then
        echo "error: RabbitMQ is not listening on 127.0.0.1:5672" >&2
        exit 1
    fi
    # Its own metrics for Prometheus (the RabbitMQ dashboard), on :15692.
    if ! port_open 15692; then
        say "enabling RabbitMQ's Prometheus plugin"
        as_root rabbitmq-plugins enable --quiet rabbitmq_prometheus >/dev/null
        for _ in $(seq 1 30); do
            port_open 15692 && break
            sleep 1
        done
    fi
}

# What only the tests need: a real S3-compatible server (s3s-fs, from crates.io; 0.14.1 is the
# last release that builds with Rust 1.95), Debian's PostgreSQL exporter (the dashboards are
# checked against it) and docker-compose (to validate deploy/compose.yaml offline).
ensure_test_tools() {
    if ! command -v s3s-fs >/dev/null && [ ! -x "$HOME/.cargo/bin/s3s-fs" ]; then
        say "installing s3s-fs (an S3-compatible server for the storage tests)"
        cargo install --quiet --locked s3s-fs@0.14.1 --features binary
    fi
    local missing
    # chromium + chromium-driver: the web app's browser tests (tests/browser/).
    missing=$(missing_packages prometheus-postgres-exporter docker-compose chromium chromium-driver fonts-dejavu-core)
    if [ -n "$missing" ]; then
        say "installing test tools: $missing"
        # shellcheck disable=SC2086
        apt_install $missing
    fi
    # axe-core, the accessibility checks the browser tests run in each page, at the version
    # pinned by tests/browser/axe/package-lock.json.
    command -v npm >/dev/null || apt_install nodejs npm
    if [ ! -f "$ROOT/tests/browser/axe/node_modules/axe-core/axe.min.js" ]; then
        say "installing axe-core (tests/browser/axe)"
        (cd "$ROOT/tests/browser/axe" && npm ci --no-audit --no-fund --silent)
    fi
    # Installed as a service, the exporter would hold its default port; the tests run their own.
    as_root systemctl disable --now prometheus-postgres-exporter >/dev/null 2>&1 || true
}
