#!/bin/sh
# Entrypoint of the sopbot container image (see docs/deployment.md, "In a container").
#
#   entrypoint.sh                 sopbot run (long polling), the image's default command
#   entrypoint.sh web             sopbot web (webhook mode, on $PORT)
#   entrypoint.sh doctor|invite|backup|...   any other sopbot command
#   entrypoint.sh healthcheck     exit 0 when GET /health answers 200 (the image's HEALTHCHECK):
#                                 $SOPBOT_HTTP_PORT (polling), else $PORT (webhook)
#   entrypoint.sh sh              anything else is run as it is
#
# Before run and web it checks that the data directory (the volume) is writable by the
# user the container runs as, and says what to do when it is not (exit 2: a setting to fix,
# not worth restarting).
set -eu

data="${SOPBOT_DATA_DIR:-/data}"

healthcheck() {
    for port in ${SOPBOT_HTTP_PORT:-} ${PORT:-}; do
        if python3 - "http://127.0.0.1:${port}/health" <<'PY'
import sys
import urllib.request

try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:  # refused, 503, timeout: unhealthy
    print(f"{sys.argv[1]}: {exc}", file=sys.stderr)
    sys.exit(1)
PY
        then
            return 0
        fi
    done
    if [ -z "${SOPBOT_HTTP_PORT:-}${PORT:-}" ]; then
        echo "healthcheck: set SOPBOT_HTTP_PORT (sopbot run) or PORT (sopbot web)" >&2
    fi
    return 1
}

check_data_dir() {
    if [ ! -d "$data" ] && ! mkdir -p "$data" 2>/dev/null; then
        echo "sopbot: the data directory $data does not exist and cannot be created; mount a volume there (compose.yaml does) or set SOPBOT_DATA_DIR." >&2
        exit 2
    fi
    if [ ! -w "$data" ] || [ ! -x "$data" ]; then
        echo "sopbot: the data directory $data is not writable by user $(id -u); give the volume to this user (e.g. chown -R $(id -u):$(id -g) on the host directory) or set SOPBOT_DATA_DIR." >&2
        exit 2
    fi
}

if [ "$#" -eq 0 ]; then
    set -- run
fi

case "$1" in
    healthcheck)
        healthcheck
        exit $?
        ;;
    run|web)
        check_data_dir
        exec sopbot "$@"
        ;;
    -*|backup|calendar|demo|doctor|export|flows|invite|rekap|reminders|restore)
        exec sopbot "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
