#!/usr/bin/env bash
# redis.sh — a throw-away local Redis for rampart's tests (rate-limit backend).
#
#   scripts/redis.sh [start]   install (apt) if missing, start; print the URL on stdout
#   scripts/redis.sh url       print the URL of the running instance
#   scripts/redis.sh stop      stop the instance and delete its directory
#
# Idempotent: "start" on a running instance just prints its URL. The server
# listens on 127.0.0.1 only, on port $RAMPART_REDIS_PORT (default 6390) or the
# next free one, with no persistence (no RDB, no AOF) and its pid/log files in
# $RAMPART_REDIS_DIR (default /tmp/rampart-redis). Only the URL goes to stdout:
#
#   export RAMPART_TEST_REDIS_URL="$(scripts/redis.sh start)"
#   go test ./limits/... ./layers/ratelimit/...
#   scripts/redis.sh stop
#
# The instance has no password: it is for tests only, never for real data.
set -euo pipefail

DIR="${RAMPART_REDIS_DIR:-/tmp/rampart-redis}"
PORT="${RAMPART_REDIS_PORT:-6390}"

log() { echo "redis.sh: $*" >&2; }

install_redis() {
	if command -v redis-server >/dev/null 2>&1; then return; fi
	if [ "$(id -u)" != 0 ]; then
		log "redis-server is not installed and this is not root: apt-get install -y redis-server"
		exit 1
	fi
	log "installing redis-server (apt)…"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	# policy-rc.d keeps the package from starting its own system instance.
	local had_policy=0
	[ -e /usr/sbin/policy-rc.d ] && had_policy=1
	if [ $had_policy = 0 ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi
	apt-get install -y -qq --no-install-recommends redis-server >&2 || { [ $had_policy = 0 ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
	[ $had_policy = 0 ] && rm -f /usr/sbin/policy-rc.d
	command -v redis-server >/dev/null 2>&1 || { log "redis-server not found after install"; exit 1; }
}

# running prints the port of a live instance started by this script.
running() {
	[ -f "$DIR/redis.pid" ] && [ -f "$DIR/port" ] || return 1
	local pid port
	pid=$(cat "$DIR/redis.pid" 2>/dev/null) || return 1
	port=$(cat "$DIR/port")
	kill -0 "$pid" 2>/dev/null || return 1
	redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 || return 1
	echo "$port"
}

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
	local port
	if port=$(running); then
		echo "redis://127.0.0.1:$port/0"
		return
	fi
	install_redis
	mkdir -p "$DIR"
	port=$PORT
	local tries=0
	while ! port_free "$port"; do
		port=$((port + 1))
		tries=$((tries + 1))
		[ $tries -lt 100 ] || { log "no free port from $PORT"; exit 1; }
	done
	rm -f "$DIR/redis.pid"
	redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
		--save "" --appendonly no --dir "$DIR" \
		--daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" \
		--maxmemory 256mb --maxmemory-policy noeviction >&2
	echo "$port" >"$DIR/port"
	local i
	for i in $(seq 1 50); do
		if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
			echo "redis://127.0.0.1:$port/0"
			return
		fi
		sleep 0.1
	done
	log "redis-server did not answer on port $port; see $DIR/redis.log"
	exit 1
}

stop() {
	if [ -f "$DIR/redis.pid" ]; then
		local pid
		pid=$(cat "$DIR/redis.pid" 2>/dev/null || true)
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			kill "$pid"
			for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		fi
	fi
	rm -rf "$DIR"
}

case "${1:-start}" in
start) start ;;
url)
	port=$(running) || { log "not running"; exit 1; }
	echo "redis://127.0.0.1:$port/0"
	;;
stop) stop ;;
*)
	log "usage: $0 [start|url|stop]"
	exit 2
	;;
esac
