#!/usr/bin/env bash
# services.sh — a throw-away local PostgreSQL for rampart's tests.
#
#   scripts/services.sh [start]   install (apt) if missing, init, start; print the DSN on stdout
#   scripts/services.sh dsn       print the DSN of the running instance
#   scripts/services.sh stop      stop the instance (data is kept for the next start)
#   scripts/services.sh destroy   stop and delete the instance's directory
#
# Idempotent: "start" on a running instance just prints its DSN. The server
# listens on 127.0.0.1 only (port 5433, or the next free one), keeps its
# cluster in $RAMPART_PG_DIR (default /tmp/rampart-pg) and is owned by the
# "postgres" user when run as root. Only the DSN goes to stdout, so:
#
#   export RAMPART_TEST_POSTGRES_DSN="$(scripts/services.sh start)"
#
# The database is for tests only (password "rampart"); never point it at
# anything real.
set -euo pipefail

DIR="${RAMPART_PG_DIR:-/tmp/rampart-pg}"
PORT="${RAMPART_PG_PORT:-5433}"
DB=rampart_test
USER_NAME=rampart
PASSWORD=rampart

log() { echo "services.sh: $*" >&2; }

pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
	[ -n "$d" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

install_pg() {
	if [ -n "$(pg_bindir)" ]; then return; fi
	if [ "$(id -u)" != 0 ]; then
		log "PostgreSQL is not installed and this is not root: apt-get install -y postgresql"
		exit 1
	fi
	log "installing PostgreSQL (apt)…"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	# policy-rc.d keeps the package from trying to start its own cluster.
	local had_policy=0
	[ -e /usr/sbin/policy-rc.d ] && had_policy=1
	if [ $had_policy = 0 ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi
	apt-get install -y -qq postgresql >&2 || { [ $had_policy = 0 ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
	[ $had_policy = 0 ] && rm -f /usr/sbin/policy-rc.d
	[ -n "$(pg_bindir)" ] || { log "PostgreSQL binaries not found after install"; exit 1; }
}

# as_pg runs a command as the cluster owner.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

dsn() {
	echo "postgres://$USER_NAME:$PASSWORD@127.0.0.1:$(cat "$DIR/port")/$DB?sslmode=disable"
}

running() {
	local bin
	bin=$(pg_bindir) || return 1
	[ -f "$DIR/data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

psql_su() {
	as_pg "$(pg_bindir)/psql" -h "$DIR/sock" -p "$(cat "$DIR/port")" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
}

start() {
	install_pg
	local bin
	bin=$(pg_bindir)
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
		log "no postgres user (the Debian package creates it)"; exit 1
	fi
	mkdir -p "$DIR"
	if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$DIR"; fi
	chmod 700 "$DIR"
	if ! running; then
		if [ ! -f "$DIR/data/PG_VERSION" ]; then
			log "initialising cluster in $DIR/data"
			as_pg mkdir -p "$DIR/sock"
			as_pg "$bin/initdb" -D "$DIR/data" -U postgres --auth-local=trust \
				--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null 2>"$DIR/initdb.err" \
				|| as_pg "$bin/initdb" -D "$DIR/data" -U postgres --auth-local=trust \
					--auth-host=scram-sha-256 -E UTF8 --no-locale >/dev/null \
				|| { cat "$DIR/initdb.err" >&2; exit 1; }
		fi
		as_pg mkdir -p "$DIR/sock"
		local p=$PORT tries=0
		while ! port_free "$p"; do
			p=$((p + 1)); tries=$((tries + 1))
			[ $tries -lt 100 ] || { log "no free port from $PORT"; exit 1; }
		done
		echo "$p" >"$DIR/port"
		log "starting PostgreSQL on 127.0.0.1:$p"
		as_pg "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $p -k $DIR/sock -c fsync=off -c max_connections=200" start >&2 \
			|| { tail -n 30 "$DIR/server.log" >&2 || true; exit 1; }
	fi
	if [ "$(psql_su -c "SELECT 1 FROM pg_roles WHERE rolname = '$USER_NAME'")" != 1 ]; then
		psql_su -c "CREATE ROLE $USER_NAME LOGIN PASSWORD '$PASSWORD'"
	fi
	if [ "$(psql_su -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
		psql_su -c "CREATE DATABASE $DB OWNER $USER_NAME"
	fi
	dsn
}

stop() {
	if running; then
		log "stopping PostgreSQL"
		as_pg "$(pg_bindir)/pg_ctl" -D "$DIR/data" -m fast -w stop >&2
	else
		log "not running"
	fi
}

case "${1:-start}" in
start) start ;;
dsn) running || { log "not running"; exit 1; }; dsn ;;
stop) stop ;;
destroy) stop; rm -rf "$DIR" ;;
*) echo "usage: $0 [start|dsn|stop|destroy]" >&2; exit 2 ;;
esac
