#!/bin/sh
# Run the service image as an operator would and check it with `ardlib smoke`
# (make image-smoke):
#
#   scripts/image-smoke.sh IMAGE ARDLIB
#
# IMAGE is the built image, ARDLIB the host's `ardlib` command (the smoke checks and the
# dashboard's headless Chromium run on the host); $PODMAN, if set, is the podman command
# (default `podman --runtime runc`). Steps: a fresh volume; `ardlib service
# seed-demo` in a container on it (real campaigns, so the listings' fields are checked);
# the service on a free loopback port with an API key, protected reads and one allowed CORS
# origin, so none of the 16 checks is skipped; wait for /health (60 s at most); the image's
# own HEALTHCHECK (`podman healthcheck run`); `ardlib smoke`. The container and the volume
# are removed on every exit, success or not; the service's log is printed on failure.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 IMAGE ARDLIB" >&2; exit 2; }
image=$1 ardlib=$2
python=$(dirname "$ardlib")/python
podman=${PODMAN:-podman --runtime runc}  # crun, podman's default runtime, fails on some kernels
name=ardlib-smoke-$$
origin=http://allowed.example
# podman's default open-files limit (1048576) is above this machine's hard limit, and root
# here lacks CAP_SYS_RESOURCE to raise it: give the container the caller's limits instead
nofile=$(ulimit -Hn)
if [ "$nofile" = unlimited ]; then nofile=1048576; fi
limits="--ulimit nofile=$nofile:$nofile --ulimit nproc=4096:4096"
key=$("$python" -c 'import secrets; print(secrets.token_urlsafe(24))')
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port

cleanup() {
    status=$?
    if [ "$status" -ne 0 ] && $podman container exists "$name"; then
        echo "image-smoke: failed (exit $status); the service's log:" >&2
        $podman logs "$name" >&2 || true
    fi
    $podman rm --force --time 0 "$name" >/dev/null 2>&1 || true
    $podman volume rm --force "$name" >/dev/null 2>&1 || true
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

$podman volume create "$name" >/dev/null
# shellcheck disable=SC2086  # $limits is two options
$podman run --rm --pull never $limits --no-healthcheck --volume "$name:/data" "$image" service seed-demo
# No healthcheck timer (podman runs it from systemd, which CI machines may lack): the
# HEALTHCHECK is run once by hand below
# shellcheck disable=SC2086
$podman run --detach --pull never --name "$name" $limits --health-interval disable --publish "127.0.0.1:$port:8000" \
    --volume "$name:/data" --env ARDLIB_API_KEY="$key" --env ARDLIB_PROTECT_READS=1 \
    --env ARDLIB_CORS_ORIGINS="$origin" "$image" >/dev/null
echo "image-smoke: $image as $name on $url; waiting for /health"
"$python" - "$url/health" <<'EOF'
import sys, time, urllib.request

deadline = time.monotonic() + 60
while True:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
            print(f"image-smoke: /health answered {response.status} after startup")
            break
    except OSError as exc:
        if time.monotonic() > deadline:
            sys.exit(f"image-smoke: {sys.argv[1]} did not answer within 60 s: {exc}")
        time.sleep(0.5)
EOF
$podman healthcheck run "$name"
echo "image-smoke: the image's HEALTHCHECK reports $($podman inspect --format '{{.State.Health.Status}}' "$name")"
"$ardlib" smoke "$url" --api-key "$key" --origin-allowed "$origin"
